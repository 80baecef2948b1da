/** The audit log's read models (DESIGN.md §11): a page of entries, newest first, and the check of its hash chain. */
import type { AuditChainCheck, AuditEntry, List, Paging } from '../contract/index.js';
import { listAudit, verifyAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';

/** A page of the log, newest first, in one query. */
export async function auditPage(ctx: { db: Db }, paging: Paging): Promise<List<AuditEntry>> {
  const { limit = 20, offset = 0 } = paging;
  return { ...(await listAudit(ctx.db, limit, offset)), limit, offset };
}

/** Walks the whole chain a page at a time: intact, or the first entry edited, removed or moved. */
export function checkAuditChain(ctx: { db: Db }): Promise<AuditChainCheck> {
  return verifyAudit(ctx.db);
}
