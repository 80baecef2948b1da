/**
 * Approvals (DESIGN.md §7): an approver vouches for one release (by digest) in one
 * environment, with a justification; the approval expires, can be revoked, and is not used up.
 */
import { randomUUID } from 'node:crypto';
import { ForgeError, validationError } from '../core/errors.js';
import type { Principal } from '../core/permissions.js';
import { findEnvironment, type PlatformConfig } from '../core/platform-config.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import * as approvals from '../store/approvals.js';
import * as releases from '../store/releases.js';
import { checkTarget, requirePermission } from './deploy.js';

export interface ApproveRequest {
  repository: string;
  project: string;
  release: string;
  environment: string;
  justification: string;
}

interface Ctx {
  db: Db;
  platform: PlatformConfig;
}

export async function approve(ctx: Ctx, principal: Principal, body: ApproveRequest): Promise<approvals.Approval> {
  if (typeof body.environment === 'string') requirePermission(principal, { kind: 'approve', environment: body.environment });
  const { repository, project, environment } = checkTarget(ctx, body);
  const justification = typeof body.justification === 'string' ? body.justification.trim() : '';
  if (!justification) throw validationError([{ path: 'justification', message: 'an approval needs a justification: say why this release may go to this environment' }]);
  if (typeof body.release !== 'string' || !body.release) throw validationError([{ path: 'release', message: 'expected a release reference (tag, number or sha)' }]);
  const release = await releases.resolveRelease(ctx.db, repository, project, body.release);
  const id = randomUUID();
  await ctx.db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(hashtextextended($1, 2))', [`approve:${release.oci_digest}/${environment.name}/${principal.subject}`]);
    const mine = (await approvals.approvalsFor(tx, release.oci_digest, environment.name))
      .find((a) => a.approver === principal.subject && a.status === 'active');
    if (mine) {
      throw new ForgeError('conflict', `${principal.subject} already approved release ${release.release_number} for ${environment.name} (approval ${mine.id}, active until ${mine.expires_at})`, { approval_id: mine.id });
    }
    await approvals.insertApproval(tx, {
      id, release_id: release.id, release_digest: release.oci_digest, repository, project, environment: environment.name,
      approver: principal.subject, justification, expires_after_ms: environment.policy.approvals.expiresAfterMs,
    });
    await appendAudit(tx, { actor: principal.subject, action: 'approval.granted', subject: id,
      details: { release: release.canonical_id, digest: release.oci_digest, environment: environment.name, justification } });
  });
  return (await approvals.getApproval(ctx.db, id))!;
}

export async function revoke(ctx: Ctx, principal: Principal, id: string): Promise<approvals.Approval> {
  const found = /^[0-9a-f-]{36}$/i.test(id) ? await approvals.getApproval(ctx.db, id) : undefined;
  if (!found) throw new ForgeError('not_found', `no approval ${id}`);
  requirePermission(principal, { kind: 'approve', environment: found.environment });
  await ctx.db.transaction(async (tx) => {
    if (!(await approvals.revokeApproval(tx, id, principal.subject))) {
      throw new ForgeError('conflict', `approval ${id} is ${found.status === 'active' ? 'no longer active' : found.status}; only an active approval can be revoked`);
    }
    await appendAudit(tx, { actor: principal.subject, action: 'approval.revoked', subject: id, details: { environment: found.environment, release_id: found.release_id } });
  });
  return (await approvals.getApproval(ctx.db, id))!;
}

/** GET /approvals/{release_uuid}/{environment}: the approvals and whether they meet the rule (counting every distinct active approver). */
export async function approvalState(ctx: Ctx, releaseId: string, environmentName: string) {
  const environment = findEnvironment(ctx.platform, environmentName);
  if (!environment) throw new ForgeError('not_found', `environment "${environmentName}" is not configured`);
  const release = /^[0-9a-f-]{36}$/i.test(releaseId) ? await releases.findById(ctx.db, releaseId) : undefined;
  if (!release) throw new ForgeError('not_found', `no release with id ${releaseId}`);
  const list = await approvals.approvalsFor(ctx.db, release.oci_digest, environment.name);
  const required = environment.policy.requiresApproval ? environment.policy.approvals.required : 0;
  const approvers = new Set(list.filter((a) => a.status === 'active').map((a) => a.approver));
  return { approvals: list, satisfied: approvers.size >= required, required };
}
