/**
 * The break-glass aggregate (issue #16): one release (id and digest) in one environment, asked
 * for with a reason, granted once by someone else, expiring. Granting is one compare-and-swap
 * update, so two replicas granting at once cannot both succeed.
 */
import type { BreakGlass, BreakGlassStatus, Page } from '../contract/index.js';
import { cutPage } from '../core/cursor.js';
import type { Db } from './db.js';

/** A timestamp as a cursor holds it: UTC to the microsecond (the database's precision), so that no two keys collide. */
const MICROS = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const STATUS = `case when b.granted_at is null then 'requested' when b.expires_at <= now() then 'expired' else 'granted' end`;
const SELECT = `select b.*, r.release_number, ${STATUS} as status from break_glass b join releases r on r.id = b.release_id`;

export interface NewBreakGlass {
  id: string;
  release_id: string;
  release_digest: string;
  repository: string;
  project: string;
  environment: string;
  reason: string;
  requested_by: string;
}

export async function insertBreakGlass(tx: Db, b: NewBreakGlass): Promise<void> {
  await tx.query(
    `insert into break_glass (id, release_id, release_digest, repository, project, environment, reason, requested_by)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [b.id, b.release_id, b.release_digest, b.repository, b.project, b.environment, b.reason, b.requested_by],
  );
}

export async function getBreakGlass(db: Db, id: string): Promise<BreakGlass | undefined> {
  const [row] = await db.query<BreakGlass>(`${SELECT} where b.id = $1`, [id]);
  return row;
}

/**
 * Grants a requested break-glass: by someone other than the requester, once. Answers false when
 * it was already granted or `by` is the requester (the caller tells which from a fresh read).
 */
export async function grantBreakGlass(tx: Db, id: string, by: string, justification: string, expiresAfterMs: number): Promise<boolean> {
  const rows = await tx.query(
    `update break_glass set granted_by = $2, granted_at = now(), justification = $3,
       expires_at = now() + make_interval(secs => $4::float8 / 1000)
     where id = $1 and granted_at is null and requested_by <> $2 returning id`,
    [id, by, justification, expiresAfterMs],
  );
  return rows.length > 0;
}

/** The granted break-glasses of this release (by id and digest) in this environment, in any state, newest first. */
export function grantsFor(db: Db, releaseId: string, digest: string, environment: string): Promise<BreakGlass[]> {
  return db.query<BreakGlass>(
    `${SELECT} where b.release_id = $1 and b.release_digest = $2 and b.environment = $3 and b.granted_at is not null
     order by b.granted_at desc`,
    [releaseId, digest, environment],
  );
}

/**
 * Break-glasses, newest first (requested_at desc, id desc), with the count of all that match:
 * `limit` after the key `after` ([requested_at to the microsecond, id]), else after skipping
 * `offset`. Walks break_glass_keyset (migration 0171).
 */
export async function listBreakGlass(
  db: Db,
  filter: { environment?: string; status?: BreakGlassStatus },
  limit: number,
  offset: number,
  after?: (string | number)[],
): Promise<Page<BreakGlass>> {
  const where = `where ($1::text is null or b.environment = $1) and ($2::text is null or ${STATUS} = $2)`;
  const [count] = await db.query<{ total: number }>(`select count(*)::int as total from break_glass b ${where}`, [
    filter.environment ?? null,
    filter.status ?? null,
  ]);
  const keyset = after ? 'and (b.requested_at, b.id) < ($5::timestamptz, $6::uuid)' : '';
  const rows = await db.query<BreakGlass & { key_at: string }>(
    `${SELECT.replace('select b.*,', `select b.*, ${MICROS('b.requested_at')} as key_at,`)} ${where} ${keyset}
     order by b.requested_at desc, b.id desc limit $3 offset $4`,
    [filter.environment ?? null, filter.status ?? null, limit + 1, offset, ...(after ?? [])],
  );
  const page = cutPage(rows, limit, (b) => [b.key_at, b.id]);
  return { items: page.items.map(({ key_at: _key, ...b }) => b), total: count?.total ?? 0, next: page.next };
}
