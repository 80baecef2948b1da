-- Revoked embedded tokens (issue 19 item 5), by token id (the JWT's jti). Every replica reads
-- this list (refreshed every few seconds), so a revocation is in force everywhere within 5 s.
-- expires_at: when no token with this id can be valid any more (the revocation time plus the
-- longest token lifetime then configured); rows past it may be pruned.
create table token_revocations (
  jti text primary key,
  revoked_at timestamptz not null default now(),
  revoked_by text not null,
  reason text not null default '',
  expires_at timestamptz not null
);
