/** The approval aggregate: bound to (release digest, environment), expiring, revocable, never used up. */
import type { Approval, ApprovalStatus, Page } from '../contract/index.js';
import { cutPage } from '../core/cursor.js';
import type { Db } from './db.js';

/** A timestamp as a cursor holds it: UTC to the microsecond (the database's precision), so that no two keys collide. */
const MICROS = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const SELECT = `
select a.*, r.release_number,
  case when a.revoked_at is not null then 'revoked' when a.expires_at <= now() then 'expired' else 'active' end as status
from approvals a join releases r on r.id = a.release_id`;

export interface NewApproval {
  id: string;
  release_id: string;
  release_digest: string;
  repository: string;
  project: string;
  environment: string;
  approver: string;
  /** The name the approver showed (an OIDC person's email), display only (issue #13). */
  approver_display?: string;
  justification: string;
  expires_after_ms: number;
  /** What the approver was shown (issue #16), kept as it was. */
  context?: unknown;
}

export async function insertApproval(tx: Db, a: NewApproval): Promise<void> {
  await tx.query(
    `insert into approvals (id, release_id, release_digest, repository, project, environment, approver, justification, expires_at, context, approver_display)
     values ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9::float8 / 1000), $10::jsonb, $11)`,
    [
      a.id,
      a.release_id,
      a.release_digest,
      a.repository,
      a.project,
      a.environment,
      a.approver,
      a.justification,
      a.expires_after_ms,
      a.context === undefined ? null : JSON.stringify(a.context),
      a.approver_display ?? null,
    ],
  );
}

export async function getApproval(db: Db, id: string): Promise<Approval | undefined> {
  const [row] = await db.query<Approval>(`${SELECT} where a.id = $1`, [id]);
  return row;
}

/** Every approval of this release digest for this environment, newest first, in any state. */
export function approvalsFor(db: Db, digest: string, environment: string): Promise<Approval[]> {
  return db.query<Approval>(`${SELECT} where a.release_digest = $1 and a.environment = $2 order by a.approved_at desc`, [
    digest,
    environment,
  ]);
}

/**
 * The approvals queue, newest first (approved_at desc, id desc), with the count of all that
 * match: one round trip. `limit` after the key `after` ([approved_at to the microsecond, id], as
 * a previous page's `next` holds it), else after skipping `offset`. Walks approvals_recent or
 * approvals_queue_keyset (migration 0171).
 */
export async function listApprovals(
  db: Db,
  filter: { environment?: string; status?: ApprovalStatus },
  limit: number,
  offset: number,
  after?: (string | number)[],
): Promise<Page<Approval>> {
  const where = `where ($1::text is null or a.environment = $1) and ($2::text is null or
    (case when a.revoked_at is not null then 'revoked' when a.expires_at <= now() then 'expired' else 'active' end) = $2)`;
  const keyset = after ? 'and (a.approved_at, a.id) < ($5::timestamptz, $6::uuid)' : '';
  const rows = await db.query<Approval & { total: number; key_at: string }>(
    `select t.total, q.* from (select count(*)::int as total from approvals a ${where}) t
     left join lateral (${SELECT.replace('select a.*,', `select a.*, ${MICROS('a.approved_at')} as key_at,`)} ${where} ${keyset}
       order by a.approved_at desc, a.id desc limit $3 offset $4) q on true
     order by q.approved_at desc, q.id desc`,
    [filter.environment ?? null, filter.status ?? null, limit + 1, offset, ...(after ?? [])],
  );
  const page = cutPage(
    rows.filter((r) => r.id !== null),
    limit,
    (a) => [a.key_at, a.id],
  );
  return { items: page.items.map(({ total: _total, key_at: _key, ...approval }) => approval), total: rows[0]?.total ?? 0, next: page.next };
}

/** Revokes an active approval; answers false when it was already revoked or expired. */
export async function revokeApproval(tx: Db, id: string, by: string): Promise<boolean> {
  const rows = await tx.query(
    `update approvals set revoked_at = now(), revoked_by = $2
    where id = $1 and revoked_at is null and expires_at > now() returning id`,
    [id, by],
  );
  return rows.length > 0;
}
