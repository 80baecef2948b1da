-- Webhook subscriptions (issue #13 item 9): a receiver gets only the events recorded after it
-- was first configured. The fan-out cursor alone started at the end of the log when this
-- table's predecessor was created, so enabling webhooks on a database that had grown since
-- replayed its whole history. A receiver's row is written the first time any replica sees it
-- (src/services/webhooks.ts ensureSubscriptions), with since_seq = the newest audit entry then;
-- fan-out skips entries at or before it.
create table webhook_subscriptions (
  receiver text primary key,
  since_seq bigint not null,
  created_at timestamptz not null default now()
);
