/**
 * Approvals (DESIGN.md §7): an approver vouches for one release (by digest) in one
 * environment, with a justification; the approval expires, can be revoked, and is not used up.
 */
import { randomUUID } from 'node:crypto';
import type { Approval, ApproveRequest } from '../contract/index.js';
import { ForgeError, validationError } from '../core/errors.js';
import { isUuid } from '../core/identity.js';
import type { Principal } from '../core/permissions.js';
import { findEnvironment } from '../core/platform-config.js';
import { approverIdentities } from '../core/policy/approvals.js';
import { approvalsRule, policyFacts } from '../core/policy/index.js';
import type { ReleaseStore } from '../registry/index.js';
import * as approvals from '../store/approvals.js';
import { appendAudit } from '../store/audit.js';
import { lockSubject } from '../store/lock-keys.js';
import * as releases from '../store/releases.js';
import { approvalContext, markStaleApprovals } from './approval-context.js';
import type { PlatformContext } from './deployment-context.js';
import { type Caller, permittedIn, requirePermission } from './permission.js';
import { checkTarget, requireReleaseRef } from './target.js';

/** Approvals need the database and the platform config, and the release store for the diff they keep: no git. */
type Ctx = PlatformContext & { store?: ReleaseStore };

export async function approve(ctx: Ctx, caller: Caller, body: ApproveRequest): Promise<Approval> {
  const principal = permittedIn(caller, 'approve', body.environment);
  const { repository, project, environment } = checkTarget(ctx, body);
  const justification = typeof body.justification === 'string' ? body.justification.trim() : '';
  if (!justification)
    throw validationError([
      { path: 'justification', message: 'an approval needs a justification: say why this release may go to this environment' },
    ]);
  const release = await releases.resolveRelease(ctx.db, repository, project, requireReleaseRef(body.release));
  // The release the approver chose, exactly: a reference that now names another release is refused.
  if (body.digest !== undefined && body.digest !== release.oci_digest) {
    throw new ForgeError(
      'conflict',
      `"${body.release}" now names release ${release.release_number} (${release.oci_digest}), not the release ${body.digest} that was shown; reload and approve again`,
      { digest: release.oci_digest, release_number: release.release_number },
    );
  }
  // What the approver was shown, kept on the record (issue #16).
  const context = await approvalContext(ctx, release, environment.name);
  const id = randomUUID();
  await ctx.db.transaction(async (tx) => {
    await lockSubject(tx, 'approval', `approve:${release.oci_digest}/${environment.name}/${principal.subject}`);
    // One person, one approval: an approval recorded under this person's email before the
    // switch to issuer+sub (issue #13 upgrade) is theirs too.
    // A stale approval (given when the commit was shown on other branches, review F5) does not block approving again.
    const found = markStaleApprovals(await approvals.approvalsFor(tx, release.oci_digest, environment.name), release);
    const identity = approverIdentities([...found, { approver: principal.subject, approver_display: principal.display, expires_at: '' }]);
    const mine = found.find((a) => identity(a.approver) === principal.subject && a.status === 'active' && !a.stale);
    if (mine) {
      throw new ForgeError(
        'conflict',
        `${principal.subject} already approved release ${release.release_number} for ${environment.name} (approval ${mine.id}, active until ${mine.expires_at})`,
        { approval_id: mine.id },
      );
    }
    await approvals.insertApproval(tx, {
      id,
      release_id: release.id,
      release_digest: release.oci_digest,
      repository,
      project,
      environment: environment.name,
      approver: principal.subject,
      ...(principal.display ? { approver_display: principal.display } : {}),
      justification,
      expires_after_ms: environment.policy.approvals.expiresAfterMs,
      context,
    });
    await appendAudit(tx, {
      actor: principal.subject,
      action: 'approval.granted',
      subject: id,
      details: {
        release: release.canonical_id,
        digest: release.oci_digest,
        environment: environment.name,
        justification,
        release_number: release.release_number,
        aliases: context.aliases,
      },
    });
  });
  return (await approvals.getApproval(ctx.db, id))!;
}

export async function revoke(ctx: Ctx, principal: Principal, id: string): Promise<Approval> {
  const found = isUuid(id) ? await approvals.getApproval(ctx.db, id) : undefined;
  if (!found) throw new ForgeError('not_found', `no approval ${id}`);
  requirePermission(principal, { kind: 'approve', environment: found.environment });
  await ctx.db.transaction(async (tx) => {
    if (!(await approvals.revokeApproval(tx, id, principal.subject))) {
      throw new ForgeError(
        'conflict',
        `approval ${id} is ${found.status === 'active' ? 'no longer active' : found.status}; only an active approval can be revoked`,
      );
    }
    await appendAudit(tx, {
      actor: principal.subject,
      action: 'approval.revoked',
      subject: id,
      details: { environment: found.environment, release_id: found.release_id },
    });
  });
  return (await approvals.getApproval(ctx.db, id))!;
}

/**
 * GET /approvals/{release_uuid}/{environment}: the approvals and whether they meet the approval
 * rule of the policy (the same rule module deployments use), counting every distinct active
 * approver: no deployer, so no approval is anyone's own.
 */
export async function approvalState(ctx: Ctx, releaseId: string, environmentName: string) {
  const environment = findEnvironment(ctx.platform, environmentName);
  if (!environment) throw new ForgeError('not_found', `environment "${environmentName}" is not configured`);
  const release = isUuid(releaseId) ? await releases.findById(ctx.db, releaseId) : undefined;
  if (!release) throw new ForgeError('not_found', `no release with id ${releaseId}`);
  const list = await approvals.approvalsFor(ctx.db, release.oci_digest, environment.name);
  const check = approvalsRule.evaluate(
    policyFacts({
      policy: environment.policy,
      triggers: [],
      approvals: markStaleApprovals(list, release),
      deployer: null,
      now: new Date(),
    }),
  )!;
  return { approvals: list, satisfied: check.ok, required: check.required as number };
}

/**
 * GET /approval-context: what approving `release` for `environment` would approve (the same
 * context the approval then keeps). 400/404 as an approval would answer them.
 */
export async function previewApproval(ctx: Ctx, body: { repository: string; project: string; release: string; environment: string }) {
  const { repository, project, environment } = checkTarget(ctx, body);
  const release = await releases.resolveRelease(ctx.db, repository, project, requireReleaseRef(body.release));
  return approvalContext(ctx, release, environment.name);
}
