/** GET /approvals as a read model (DESIGN.md §7, §10): the approvals queue, newest first, in one query. */
import type { Approval, ApprovalsQuery, List } from '../contract/index.js';
import { listApprovals } from '../store/approvals.js';
import type { Db } from '../store/db.js';

/** A page of the approvals, optionally of one environment and one status (active, expired, revoked). */
export async function approvalsQueue(ctx: { db: Db }, query: ApprovalsQuery): Promise<List<Approval>> {
  const { limit = 20, offset = 0, environment, status } = query;
  return { ...(await listApprovals(ctx.db, { environment, status }, limit, offset)), limit, offset };
}
