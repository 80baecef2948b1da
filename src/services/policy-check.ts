/**
 * The dry run (DESIGN.md §7, POST /policy-checks, `forge deploy --dry-run`, the dashboard's
 * "waiting for approval" list): every check of the environment policy for a would-be
 * deployment, through the same rule list as the real one, deploying nothing.
 */

import type { DeployRequest, PolicyResult } from '../contract/index.js';
import type { Principal } from '../core/permissions.js';
import * as releases from '../store/releases.js';
import type { PlatformContext } from './deployment-context.js';
import { decideDeployment } from './deployment-policy.js';
import { checkTarget } from './target.js';

/** `{ allowed, checks }` for `principal` as the deployer; 400/404 as a deployment would answer them. */
export async function checkPolicy(ctx: PlatformContext, principal: Principal, body: Omit<DeployRequest, 'reason'>): Promise<PolicyResult> {
  const { repository, project, environment } = checkTarget(ctx, body);
  const release = await releases.resolveRelease(ctx.db, repository, project, body.release);
  const { allowed, checks } = await decideDeployment(ctx, environment, release, principal.subject, false);
  return { allowed, checks };
}
