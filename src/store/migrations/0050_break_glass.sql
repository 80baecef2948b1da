-- Break-glass (issue #16): a deployer asks for one release in one environment to pass a freeze,
-- with a reason; a second person with approver:<env> grants it, with a justification, until it
-- expires. The grant is bound to the release (id and digest) and the environment.
create table break_glass (
  id uuid primary key,
  release_id uuid not null references releases (id),
  release_digest text not null,
  repository text not null,
  project text not null,
  environment text not null,
  reason text not null,
  requested_by text not null,
  requested_at timestamptz not null default now(),
  granted_by text,
  granted_at timestamptz,
  justification text,
  expires_at timestamptz,
  check ((granted_by is null) = (granted_at is null) and (granted_at is null) = (expires_at is null)),
  check (granted_by is null or granted_by <> requested_by)
);
create index break_glass_release on break_glass (release_id, environment);
create index break_glass_recent on break_glass (requested_at desc);
