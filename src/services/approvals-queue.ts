/** GET /approvals as a read model (DESIGN.md §7, §10): the approvals queue, newest first, in one query. */
import type { Approval, ApprovalsQuery, List } from '../contract/index.js';
import { windowOf } from '../core/cursor.js';
import { listApprovals } from '../store/approvals.js';
import type { Db } from '../store/db.js';

/**
 * A page of the approvals, optionally of one environment and one status (active, expired,
 * revoked): `limit` after `cursor`, else after `offset`. 400 for a cursor this list did not give.
 */
export async function approvalsQueue(ctx: { db: Db }, query: ApprovalsQuery): Promise<List<Approval>> {
  const { environment, status } = query;
  const { limit, offset, after } = windowOf(query, ['timestamp', 'uuid']);
  return { ...(await listApprovals(ctx.db, { environment, status }, limit, offset, after)), limit, offset };
}
