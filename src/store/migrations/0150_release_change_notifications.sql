-- Release change notifications (issue #18, resolution cache): every change to what a release
-- read shows (a release registered or its signature or branches updated, an alias or a trigger
-- added, an automatic deployment created or its status or environment changed) tells every
-- replica which project changed, in the transaction that makes the change: NOTIFY on channel
-- forge_release_changes (delivered to the LISTEN connections of every replica on commit), and
-- the transaction-local setting forge.release_changes that the writing replica reads before it
-- commits, so that its own next read already sees the change (services/release-cache.ts).
-- Triggers rather than calls in each writer: no writer, present or future, can forget it.
create function forge_release_changed() returns trigger language plpgsql as $$
declare
  rel uuid;
  repo text;
  proj text;
  payload text;
  pending text;
begin
  if tg_table_name = 'releases' then
    if tg_op = 'DELETE' then repo := old.repository; proj := old.project;
    else repo := new.repository; proj := new.project; end if;
  else
    if tg_op = 'DELETE' then rel := old.release_id; else rel := new.release_id; end if;
    if tg_table_name = 'deployments' or tg_table_name = 'release_aliases' then
      if tg_op = 'DELETE' then repo := old.repository; proj := old.project;
      else repo := new.repository; proj := new.project; end if;
    else
      select r.repository, r.project into repo, proj from releases r where r.id = rel;
    end if;
  end if;
  payload := json_build_object('repository', repo, 'project', proj)::text;
  perform pg_notify('forge_release_changes', payload);
  pending := current_setting('forge.release_changes', true);
  if pending is null or pending = '' then
    pending := payload;
  elsif pending <> '*' and position(payload in pending) = 0 then
    pending := case when length(pending) > 65536 then '*' else pending || E'\n' || payload end;
  end if;
  perform set_config('forge.release_changes', pending, true);
  return null;
end
$$;

create trigger releases_changed after insert or update or delete on releases
  for each row execute function forge_release_changed();
create trigger release_aliases_changed after insert or update or delete on release_aliases
  for each row execute function forge_release_changed();
create trigger release_triggers_changed after insert or update or delete on release_triggers
  for each row execute function forge_release_changed();
create trigger deployments_auto_inserted after insert on deployments
  for each row when (new.kind = 'auto') execute function forge_release_changed();
create trigger deployments_auto_changed after update of status, environment, release_id, kind, repository, project on deployments
  for each row when (old.kind = 'auto' or new.kind = 'auto') execute function forge_release_changed();
create trigger deployments_auto_deleted after delete on deployments
  for each row when (old.kind = 'auto') execute function forge_release_changed();
