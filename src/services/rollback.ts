/**
 * Roll back (DESIGN.md §8, POST /deployments/rollback): deploys the release that was active
 * before the current one, through the same policy and outbox as a deploy, and pins the
 * environment/project against auto-deploys once it lands.
 */

import type { Deployment, RollbackRequest } from '../contract/index.js';
import { ForgeError } from '../core/errors.js';
import * as deployments from '../store/deployments.js';
import * as releases from '../store/releases.js';
import { deployRelease } from './deploy.js';
import type { DeployContext } from './deployment-context.js';
import { type Caller, permittedIn } from './permission.js';
import { checkTarget } from './target.js';

/** The rollback deployment; 409 `conflict` when nothing is active or nothing was active before it. */
export async function requestRollback(ctx: DeployContext, caller: Caller, body: RollbackRequest): Promise<Deployment> {
  const principal = permittedIn(caller, 'deploy', body.environment);
  const { repository, project, environment } = checkTarget(ctx, body);
  const current = await deployments.activeDeployment(ctx.db, environment.name, repository, project);
  if (!current) {
    throw new ForgeError('conflict', `nothing to roll back: no release of ${repository}/${project} is active in ${environment.name}`);
  }
  const previousId = await deployments.previousActivation(ctx.db, environment.name, repository, project, current.release_id);
  if (!previousId) {
    throw new ForgeError(
      'conflict',
      `nothing to roll back to: release ${current.release_number} is the only release of ${repository}/${project} ever active in ${environment.name}; deploy an older release by reference with "forge deploy"`,
    );
  }
  const target = (await releases.findById(ctx.db, previousId))!;
  return deployRelease(ctx, principal, 'rollback', environment, target, body.reason, current);
}
