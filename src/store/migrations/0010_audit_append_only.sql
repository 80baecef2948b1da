-- The audit log is append-only (DESIGN.md §11): no code path updates or deletes an entry, and
-- the database refuses it too. Only the table owner can lift this (ALTER TABLE ... DISABLE
-- TRIGGER), which is what the tamper tests do; the hash chain then shows the edit.
create function audit_log_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
end;
$$;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_refuse_change();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_refuse_change();
