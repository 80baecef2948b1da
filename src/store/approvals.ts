/** The approval aggregate: bound to (release digest, environment), expiring, revocable, never used up. */
import type { Db } from './db.js';

export type ApprovalStatus = 'active' | 'expired' | 'revoked';

export interface Approval {
  id: string;
  release_id: string;
  release_digest: string;
  repository: string;
  project: string;
  release_number: number;
  environment: string;
  approver: string;
  justification: string;
  approved_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
  status: ApprovalStatus;
}

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
  justification: string;
  expires_after_ms: number;
}

export async function insertApproval(tx: Db, a: NewApproval): Promise<void> {
  await tx.query(
    `insert into approvals (id, release_id, release_digest, repository, project, environment, approver, justification, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9::float8 / 1000))`,
    [a.id, a.release_id, a.release_digest, a.repository, a.project, a.environment, a.approver, a.justification, a.expires_after_ms],
  );
}

export async function getApproval(db: Db, id: string): Promise<Approval | undefined> {
  const [row] = await db.query<Approval>(`${SELECT} where a.id = $1`, [id]);
  return row;
}

/** Every approval of this release digest for this environment, newest first, in any state. */
export function approvalsFor(db: Db, digest: string, environment: string): Promise<Approval[]> {
  return db.query<Approval>(`${SELECT} where a.release_digest = $1 and a.environment = $2 order by a.approved_at desc`, [digest, environment]);
}

/** The approvals queue, newest first. */
export async function listApprovals(db: Db, filter: { environment?: string; status?: ApprovalStatus }, limit: number, offset: number) {
  const where = `where ($1::text is null or a.environment = $1) and ($2::text is null or
    (case when a.revoked_at is not null then 'revoked' when a.expires_at <= now() then 'expired' else 'active' end) = $2)`;
  const params = [filter.environment ?? null, filter.status ?? null];
  const items = await db.query<Approval>(`${SELECT} ${where} order by a.approved_at desc, a.id limit $3 offset $4`, [...params, limit, offset]);
  const [{ total }] = await db.query<{ total: number }>(`select count(*)::int as total from approvals a ${where}`, params);
  return { items, total };
}

/** Revokes an active approval; answers false when it was already revoked or expired. */
export async function revokeApproval(tx: Db, id: string, by: string): Promise<boolean> {
  const rows = await tx.query(`update approvals set revoked_at = now(), revoked_by = $2
    where id = $1 and revoked_at is null and expires_at > now() returning id`, [id, by]);
  return rows.length > 0;
}
