-- Keyset paging of every list (issue #18): each list's order is total (it ends in a unique
-- column) and an index walks it, so a page after a cursor reads only its own rows.
-- Releases of a project (the unique index on their number), deployments of a slot (deployments_history),
-- the audit log (its primary key), a train's deployments (train_deployments_train) and the
-- projects (their primary key) already have theirs. The indexes replaced here were prefixes of
-- the new ones.
create index approvals_recent on approvals (approved_at desc, id desc);
create index approvals_queue_keyset on approvals (environment, approved_at desc, id desc);
drop index approvals_queue;
create index webhook_deliveries_keyset on webhook_deliveries (created_at desc, event_seq desc, id desc);
drop index webhook_deliveries_recent;
create index break_glass_keyset on break_glass (requested_at desc, id desc);
drop index break_glass_recent;
create unique index trains_seq on trains (seq desc);
-- A project's releases by number: the unique constraint's index (repository, project,
-- release_number) serves that order in either direction; this copy only cost registrations.
drop index releases_project_created;
