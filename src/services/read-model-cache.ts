/**
 * Answers of the read models' heaviest queries (GET /environments, GET /overview; issue #18),
 * kept by this process for as long as the database says nothing changed: every change they
 * show (a release or alias registered, a deployment activated, superseded, failed, retired or
 * adopted, an approval given or revoked, a pin set or removed, a break-glass granted) appends
 * to the audit log in the same transaction, and appends are serialised (store/audit.ts), so the
 * log's head sequence number names the database's state for them. Each use asks the database
 * for that head first (one index lookup) and reads again when it moved: a replica never
 * answers from a state older than the head it just read, whichever replica made the change.
 * What changes without an audit entry is never cached here: Argo CD's observations, the time
 * (approval expiry, freeze windows) — the callers compute those on every request.
 */
import type { Db } from '../store/db.js';

/** How many answers a database keeps (one per query shape and filter), the least recently used dropped first. */
const MAX_ENTRIES = 64;

const caches = new WeakMap<Db, Map<string, { head: number; value: Promise<unknown> }>>();

/** The audit log's head sequence number (0 when empty). */
async function auditHead(db: Db): Promise<number> {
  const [row] = await db.query<{ head: number | string }>('select coalesce(max(seq), 0) as head from audit_log');
  return Number(row.head);
}

/**
 * `read()`'s answer for `key`, read again unless this process read it at the audit log's
 * current head. The value is shared between callers: they must not change it.
 */
export async function readAtHead<T>(db: Db, key: string, read: () => Promise<T>): Promise<T> {
  const head = await auditHead(db);
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.head === head) {
    cache.delete(key); // most recently used last
    cache.set(key, hit);
    return hit.value as Promise<T>;
  }
  const value = read();
  cache.set(key, { head, value });
  value.catch(() => {
    if (cache.get(key)?.value === value) cache.delete(key);
  });
  while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  return value;
}
