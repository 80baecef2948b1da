/**
 * The audit log's read models (DESIGN.md §11): a page of entries, newest first, and the check
 * of its hash chain — against itself, and against the heads anchored in the GitOps repository's
 * commits (issue 13 item 8), so that removing the newest entries is found too.
 */
import type { AuditChainCheck, AuditEntry, List, Paging } from '../contract/index.js';
import { checkAnchors } from '../core/audit-anchor.js';
import { windowOf } from '../core/cursor.js';
import { auditHashes, latestAuditSeq, listAudit, verifyAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import type { DeployContext } from './deployment-context.js';

/** A page of the log, newest first, in one query: `limit` after `cursor` (a seq), else after `offset`. 400 for a cursor this list did not give. */
export async function auditPage(ctx: { db: Db }, paging: Paging): Promise<List<AuditEntry>> {
  const { limit, offset, after } = windowOf(paging, ['integer']);
  return { ...(await listAudit(ctx.db, limit, offset, after?.[0] as number | undefined)), limit, offset };
}

/**
 * Walks the whole chain a page at a time (intact, or the first entry edited, removed or moved),
 * then, when the server has a GitOps repository, compares every anchored head with the entry
 * at its seq: an anchor beyond the log's end means entries were removed from the end; a
 * different hash means the log was rewritten. History before the first anchored commit has
 * only the chain to protect it. The first break found (lowest seq) is the one answered.
 * Errors: gitops_unavailable when the GitOps repository cannot be fetched.
 */
export async function checkAuditChain(ctx: { db: Db; deploy?: Pick<DeployContext, 'gitops'> }): Promise<AuditChainCheck> {
  const chain = await verifyAudit(ctx.db);
  if (!ctx.deploy) return chain;
  const anchors = await ctx.deploy.gitops.auditAnchors();
  const seqs = [...new Set(anchors.map((a) => a.seq))];
  const [found, latest] = await Promise.all([auditHashes(ctx.db, seqs), latestAuditSeq(ctx.db)]);
  const anchored = checkAnchors(anchors, found, latest);
  const summary = { checked: anchored.checked, ...(anchored.newest ? { newest: anchored.newest } : {}) };
  if (!anchored.ok && (chain.ok || anchored.first_broken! < chain.first_broken!)) {
    return {
      ok: false,
      checked: Math.min(chain.checked, anchored.first_broken! - 1),
      first_broken: anchored.first_broken,
      reason: anchored.reason,
      anchors: summary,
    };
  }
  return { ...chain, anchors: summary };
}
