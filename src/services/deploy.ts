/**
 * Deploy (DESIGN.md §7, §8, POST /deployments): permission → request → policy → the outbox
 * (pending with a lease → one pointer commit in the GitOps repository → active or failed).
 * The database and git's compare-and-swap carry the correctness; nothing here depends on which
 * replica handles what. `deployRelease` is the part rollback shares.
 */

import type { Deployment, DeployRequest, Release } from '../contract/index.js';
import { ForgeError } from '../core/errors.js';
import type { Principal } from '../core/permissions.js';
import type { Environment } from '../core/platform-config.js';
import { parsePointer, pointerPath } from '../core/pointer.js';
import * as deployments from '../store/deployments.js';
import * as releases from '../store/releases.js';
import type { DeployContext } from './deployment-context.js';
import { decideDeployment, policyDenied } from './deployment-policy.js';
import { completeDeployment, recordPending } from './outbox.js';
import { type Caller, permittedIn } from './permission.js';
import { checkTarget, requireReleaseRef } from './target.js';

/**
 * The deployment as recorded; a 503 `gitops_unavailable` or 502 `gitops_rejected` (details: the
 * failed deployment, and the remote's own message) when its pointer could not be written.
 */
async function outcome(ctx: DeployContext, id: string, failure: Error | undefined): Promise<Deployment> {
  const d = (await deployments.getDeployment(ctx.db, id))!;
  if (
    d.status === 'failed' &&
    failure instanceof ForgeError &&
    (failure.code === 'gitops_unavailable' || failure.code === 'gitops_rejected')
  ) {
    throw new ForgeError(failure.code, failure.message, { ...failure.details, deployment: d });
  }
  return d;
}

/**
 * Whether `release` is what the GitOps branch tip runs in `env` (its pointer names the release's
 * commit and digest). The database's active row is believed only when git agrees: after an
 * outside change to the branch, deploying the release again writes it again.
 */
async function liveInGit(ctx: DeployContext, env: string, release: Release): Promise<boolean> {
  const { content } = await ctx.gitops.readFile(
    pointerPath({ environment: env, repository: release.repository, project: release.project }),
  );
  if (content === null) return false;
  try {
    const p = parsePointer(content);
    return p.release === release.commit_sha && p.digest === release.oci_digest;
  } catch {
    return false;
  }
}

/**
 * Deploys a resolved `release` to `env` as `principal` (permission already checked): the policy
 * (403 `policy_denied` with every check), then pending → pushed → recorded; answers the
 * deployment once its pointer commit landed or failed.
 */
export async function deployRelease(
  ctx: DeployContext,
  principal: Principal,
  kind: 'deploy' | 'rollback',
  env: Environment,
  release: Release,
  reason: string | undefined,
  current: Deployment | undefined,
): Promise<Deployment> {
  const decision = await decideDeployment(ctx, env, release, principal.subject, false, {
    action: kind === 'rollback' ? 'rollback' : 'manual',
  });
  if (!decision.allowed) throw policyDenied(env, release, decision);
  const work = await recordPending(ctx, { kind, environment: env.name, release, actor: principal.subject, reason, decision, current });
  const { failure } = await completeDeployment(ctx, work);
  return outcome(ctx, work.id, failure);
}

/**
 * POST /deployments: `created` with the outcome, or not created with the active deployment when
 * the release is already active (in the database and at the GitOps branch tip). Refusals in order: 403 permission (unless `caller` is a permit
 * for it), 400/404 target and reference, 403 policy.
 */
export async function requestDeployment(
  ctx: DeployContext,
  caller: Caller,
  body: DeployRequest,
): Promise<{ created: boolean; deployment: Deployment }> {
  const principal = permittedIn(caller, 'deploy', body.environment);
  const { repository, project, environment } = checkTarget(ctx, body);
  const release = await releases.resolveRelease(ctx.db, repository, project, requireReleaseRef(body.release));
  const current = await deployments.activeDeployment(ctx.db, environment.name, repository, project);
  if (current?.release_id === release.id && (await liveInGit(ctx, environment.name, release)))
    return { created: false, deployment: current };
  return { created: true, deployment: await deployRelease(ctx, principal, 'deploy', environment, release, body.reason, current) };
}
