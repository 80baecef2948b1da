-- The installation's signing keys (issue 13 item 5): the public half of every key that has
-- signed or may sign releases. Replicas on PostgreSQL start only with a key listed here (and
-- not retired); verifiers are given the whole set, so rotating keeps old releases verifiable.
-- A key stays listed after rotation; retiring it only stops replicas from signing with it.
create table signing_keys (
  key_id text primary key,          -- sha256 of the public key's SubjectPublicKeyInfo (DER), hex
  public_key text not null,         -- SPKI PEM
  added_at timestamptz not null default now(),
  added_by text not null,
  retired_at timestamptz
);
