/** The append-only audit log. Appends serialise on one advisory lock so the chain has no forks. */

import type { Page } from '../contract/index.js';
import { type AuditEntry, CHAIN_START, type ChainCheck, entryHash, GENESIS_HASH, verifyChain } from '../core/audit-chain.js';
import { cutPage } from '../core/cursor.js';
import type { Db } from './db.js';
import { LOCK_AUDIT_APPEND } from './lock-keys.js';

export interface AuditEvent {
  actor: string;
  action: string; // e.g. release.created, deployment.active
  subject: string; // e.g. the canonical id of a release
  details?: Record<string, unknown>;
}

/** Appends within the caller's transaction: the entry commits or rolls back with the change it records. */
export async function appendAudit(tx: Db, event: AuditEvent): Promise<void> {
  // The lock, then the chain's head, in one round trip: under READ COMMITTED each statement of
  // the script takes its own snapshot, so the read sees every append committed before the lock.
  const [last] = await tx.exec<{ seq: number; hash: string }>(
    `select pg_advisory_xact_lock(${LOCK_AUDIT_APPEND}); select seq, hash from audit_log order by seq desc limit 1`,
  );
  const entry = {
    seq: (last?.seq ?? 0) + 1,
    at: new Date().toISOString(),
    actor: event.actor,
    action: event.action,
    subject: event.subject,
    details: event.details ?? {},
    prev_hash: last?.hash ?? GENESIS_HASH,
  };
  await tx.query(
    'insert into audit_log (seq, at, actor, action, subject, details, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8)',
    [entry.seq, entry.at, entry.actor, entry.action, entry.subject, JSON.stringify(entry.details), entry.prev_hash, entryHash(entry)],
  );
}

/**
 * A page of the log, newest first (seq desc): `limit` entries after the seq `afterSeq`, else
 * after skipping `offset`; one round trip. `total` is the newest seq: the log is append-only
 * and numbered from 1 without gaps (a count would read every entry).
 */
export async function listAudit(db: Db, limit: number, offset: number, afterSeq?: number): Promise<Page<AuditEntry>> {
  const after = afterSeq === undefined ? [] : [afterSeq];
  const rows = await db.query<AuditEntry & { total: number }>(
    `select t.total, a.* from (select coalesce(max(seq), 0)::int as total from audit_log) t
     left join lateral (select * from audit_log ${after.length ? 'where seq < $3' : ''} order by seq desc limit $1 offset $2) a on true
     order by a.seq desc`,
    [limit + 1, offset, ...after],
  );
  const page = cutPage(
    rows.filter((r) => r.seq !== null),
    limit,
    (e) => [Number(e.seq)],
  );
  return { items: page.items.map(({ total: _total, ...entry }) => entry), total: rows[0]?.total ?? 0, next: page.next };
}

/**
 * The entries after `seq`, oldest first, at most `limit`: what the event stream (GET /events)
 * and the webhook fan-out read next.
 */
export async function auditAfter(db: Db, seq: number, limit: number): Promise<AuditEntry[]> {
  return db.query<AuditEntry>('select * from audit_log where seq > $1 order by seq limit $2', [seq, limit]);
}

/** The newest entry's seq and hash (what a GitOps commit anchors, issue 13 item 8); null when the log is empty. */
export async function auditHead(db: Db): Promise<{ seq: number; hash: string } | null> {
  const [row] = await db.query<{ seq: number; hash: string }>('select seq, hash from audit_log order by seq desc limit 1');
  return row ?? null;
}

/** The hashes of the entries at `seqs` (those that exist): seq → hash. */
export async function auditHashes(db: Db, seqs: number[]): Promise<Map<number, string>> {
  if (!seqs.length) return new Map();
  const rows = await db.query<{ seq: number; hash: string }>('select seq, hash from audit_log where seq = any($1::bigint[])', [seqs]);
  return new Map(rows.map((r) => [Number(r.seq), r.hash]));
}

/** The seq of the newest entry; 0 when the log is empty. */
export async function latestAuditSeq(db: Db): Promise<number> {
  const [row] = await db.query<{ max: number | null }>('select max(seq)::int as max from audit_log');
  return row?.max ?? 0;
}

/** Checks the whole chain, a page at a time, so a long log is never held in memory at once. */
export async function verifyAudit(db: Db, pageSize = 1000): Promise<ChainCheck> {
  let position = CHAIN_START;
  for (;;) {
    // The first page has no lower bound, so an entry slipped in below seq 1 is seen too.
    const from = position === CHAIN_START ? Number.MIN_SAFE_INTEGER : position.seq;
    const page = await db.query<AuditEntry>('select * from audit_log where seq >= $1 order by seq limit $2', [from, pageSize]);
    const { next, ...check } = verifyChain(page, position);
    if (!check.ok || page.length < pageSize) return check;
    position = next;
  }
}
