-- Webhook deliveries (issue 6). The audit log is the outbox: every state change appends an
-- entry in its own transaction, so a delivery only ever follows a committed change. A fan-out
-- step (one replica at a time: the row below is claimed FOR UPDATE SKIP LOCKED) turns audit
-- entries after last_seq into one delivery per interested receiver.
create table webhook_fanout (
  id integer primary key check (id = 1),
  last_seq bigint not null
);
-- Start at the current end of the log: configuring a receiver does not replay history.
insert into webhook_fanout (id, last_seq) select 1, coalesce(max(seq), 0) from audit_log;

create table webhook_deliveries (
  id uuid primary key,
  receiver text not null,
  event_seq bigint not null,
  event text not null,
  -- The exact bytes signed and sent, so every retry sends the same body and signature.
  body text not null,
  status text not null check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  last_status_code integer,
  last_error text,
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (receiver, event_seq)
);
create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_recent on webhook_deliveries (created_at desc);

-- The delivery log: one row per attempt.
create table webhook_attempts (
  delivery_id uuid not null references webhook_deliveries (id),
  attempt integer not null,
  at timestamptz not null,
  status_code integer,
  error text,
  primary key (delivery_id, attempt)
);
