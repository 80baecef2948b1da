-- Signed releases (issue 6): the signature manifest pushed beside each release image
-- (tag sha256-<hex>.sig) and the id of the key that made it. Null for releases registered
-- before signing existed.
alter table releases add column signature_digest text;
alter table releases add column signature_key_id text;
