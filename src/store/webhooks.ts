/** Webhook fan-out cursor, deliveries and their attempts (migration 0011). */
import { createHash } from 'node:crypto';
import type { DeliveryStatus, Page, WebhookDelivery } from '../contract/index.js';
import { cutPage } from '../core/cursor.js';
import type { Db } from './db.js';

/** A timestamp as a cursor holds it: UTC to the microsecond (the database's precision), so that no two keys collide. */
const MICROS = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export interface Delivery {
  id: string;
  receiver: string;
  event_seq: number;
  event: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** Takes the fan-out cursor for this transaction, or answers undefined when another replica holds it. */
export async function claimFanout(tx: Db): Promise<number | undefined> {
  const [row] = await tx.query<{ last_seq: number }>('select last_seq from webhook_fanout where id = 1 for update skip locked');
  return row?.last_seq;
}

const urlSha256 = (url: string) => createHash('sha256').update(url).digest('hex');

/**
 * Records that `receivers` are subscribed, for those not yet known (migration 0030), and
 * answers every known receiver's `since_seq`: it gets only audit entries after it. A new
 * receiver starts at the newest audit entry; one that already has deliveries (configured before
 * subscriptions were recorded) starts at the fan-out cursor, so an upgrade loses nothing.
 */
export async function ensureSubscriptions(db: Db, receivers: { name: string; url: string }[]): Promise<Map<string, number>> {
  for (const { name: r, url } of receivers) {
    await db.query(
      `insert into webhook_subscriptions (receiver, since_seq, url_sha256)
       select $1::text, case when exists (select 1 from webhook_deliveries where receiver = $1::text)
                             then coalesce((select last_seq from webhook_fanout where id = 1), 0)
                             else coalesce((select max(seq) from audit_log), 0) end, $2::text
       on conflict (receiver) do nothing`,
      [r, urlSha256(url)],
    );
  }
  const rows = await db.query<{ receiver: string; since_seq: string | number }>('select receiver, since_seq from webhook_subscriptions');
  return new Map(rows.map((row) => [row.receiver, Number(row.since_seq)]));
}

/**
 * Makes the subscriptions follow the configuration a server starts with (`receivers`: every
 * receiver, none when webhooks are off), then ensureSubscriptions. A subscription is its
 * receiver's (name, url) (migration 0131, issue #13 review F7): a receiver missing from
 * `receivers` is marked absent, and one that comes back after being absent, or with another
 * URL under its name, is subscribed anew from the newest audit entry; its pending deliveries
 * from before are failed, never sent (to the new URL). The URL is kept as a sha256.
 */
export async function syncSubscriptions(db: Db, receivers: { name: string; url: string }[]): Promise<Map<string, number>> {
  await db.query('update webhook_subscriptions set active = false where active and not (receiver = any($1::text[]))', [
    receivers.map((r) => r.name),
  ]);
  for (const { name: r, url } of receivers) {
    const urlHash = urlSha256(url);
    const renewed = await db.query<{ since_seq: string | number; why: string }>(
      `update webhook_subscriptions s set since_seq = coalesce((select max(seq) from audit_log), 0), active = true, url_sha256 = $2::text,
              created_at = now()
       from (select receiver, case when not active then 'it was absent from the configuration' else 'its URL changed' end as why
             from webhook_subscriptions where receiver = $1::text) old
       where s.receiver = $1::text and old.receiver = s.receiver
         and (not s.active or (s.url_sha256 is not null and s.url_sha256 <> $2::text))
       returning s.since_seq, old.why`,
      [r, urlHash],
    );
    if (renewed.length) {
      await db.query(
        `update webhook_deliveries set status = 'failed', finished_at = now(),
                last_error = 'not sent: the receiver was subscribed anew (' || $3::text || ') and gets only the events after that'
         where receiver = $1::text and status = 'pending' and event_seq <= $2::bigint`,
        [r, Number(renewed[0].since_seq), renewed[0].why],
      );
    }
    await db.query('update webhook_subscriptions set url_sha256 = $2::text where receiver = $1::text and url_sha256 is null', [r, urlHash]);
  }
  return ensureSubscriptions(db, receivers);
}

export async function advanceFanout(tx: Db, seq: number): Promise<void> {
  await tx.query('update webhook_fanout set last_seq = $1 where id = 1', [seq]);
}

export async function insertDelivery(
  tx: Db,
  d: { id: string; receiver: string; event_seq: number; event: string; body: string },
): Promise<void> {
  await tx.query(
    `insert into webhook_deliveries (id, receiver, event_seq, event, body, status, next_attempt_at)
     values ($1, $2, $3, $4, $5, 'pending', now()) on conflict (receiver, event_seq) do nothing`,
    [d.id, d.receiver, d.event_seq, d.event, d.body],
  );
}

/**
 * Claims up to `limit` due deliveries for one attempt each: counts the attempt and moves the
 * next try `leaseMs` ahead, so a replica that dies mid-delivery leaves the row to another
 * after the lease. Rows another replica is claiming are skipped, not waited for.
 */
export async function claimDue(db: Db, limit: number, leaseMs: number): Promise<Delivery[]> {
  return db.query<Delivery>(
    `update webhook_deliveries set attempts = attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond'
     where id in (select id from webhook_deliveries where status = 'pending' and next_attempt_at <= now()
                  order by next_attempt_at limit $1 for update skip locked)
     returning *`,
    [limit, leaseMs],
  );
}

/** Records the outcome of attempt `attempt`; ignored when the row has moved on (another replica took it after the lease). */
export async function recordAttempt(
  db: Db,
  d: { id: string; attempt: number },
  outcome: {
    statusCode: number | null;
    error: string | null;
    status: Delivery['status'];
    retryInMs?: number;
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    const updated = await tx.query(
      `update webhook_deliveries set status = $3, last_status_code = $4, last_error = $5,
         next_attempt_at = case when $3 = 'pending' then now() + $6 * interval '1 millisecond' else next_attempt_at end,
         finished_at = case when $3 = 'pending' then null else now() end
       where id = $1 and attempts = $2 and status = 'pending' returning id`,
      [d.id, d.attempt, outcome.status, outcome.statusCode, outcome.error, outcome.retryInMs ?? 0],
    );
    if (!updated.length) return;
    await tx.query('insert into webhook_attempts (delivery_id, attempt, at, status_code, error) values ($1, $2, now(), $3, $4)', [
      d.id,
      d.attempt,
      outcome.statusCode,
      outcome.error,
    ]);
  });
}

/**
 * Deliveries, newest first (created_at desc, event_seq desc, id desc), with their attempts and
 * the count of all that match: `limit` after the key `after` ([created_at to the microsecond,
 * event_seq, id]), else after skipping `offset`. Walks webhook_deliveries_keyset (migration 0171).
 */
export async function listDeliveries(
  db: Db,
  filter: { receiver?: string; status?: string },
  limit: number,
  offset: number,
  after?: (string | number)[],
): Promise<Page<WebhookDelivery>> {
  const where = ['($1::text is null or receiver = $1)', '($2::text is null or status = $2)'].join(' and ');
  const params = [filter.receiver ?? null, filter.status ?? null];
  const keyset = after ? 'and (created_at, event_seq, id) < ($5::timestamptz, $6::bigint, $7::uuid)' : '';
  const read = await db.query<Delivery & { key_at: string }>(
    `select id, receiver, event_seq, event, status, attempts, next_attempt_at, last_status_code, last_error, created_at, finished_at,
       ${MICROS('created_at')} as key_at
     from webhook_deliveries where ${where} ${keyset} order by created_at desc, event_seq desc, id desc limit $3 offset $4`,
    [...params, limit + 1, offset, ...(after ?? [])],
  );
  const page = cutPage(read, limit, (d) => [d.key_at, Number(d.event_seq), d.id]);
  const rows = page.items.map(({ key_at: _key, ...d }) => d);
  const [{ total }] = await db.query<{ total: number }>(`select count(*)::int as total from webhook_deliveries where ${where}`, params);
  const log = rows.length
    ? await db.query<{ delivery_id: string; attempt: number; at: string; status_code: number | null; error: string | null }>(
        'select * from webhook_attempts where delivery_id = any($1::uuid[]) order by attempt',
        [rows.map((r) => r.id)],
      )
    : [];
  const items: WebhookDelivery[] = rows.map((r) => ({
    ...r,
    attempts_log: log
      .filter((a) => a.delivery_id === r.id)
      .map(({ attempt, at, status_code, error }) => ({ attempt, at, status_code, error })),
  }));
  return { items, total, next: page.next };
}
