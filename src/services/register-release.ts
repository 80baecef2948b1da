/**
 * POST /releases as one use case (DESIGN.md §6): register the release (create-release.ts: one
 * unit of work, pushed and verified, or nothing), count the outcome, and after the commit
 * start the auto-deploys it triggers (§6 step 4), which may still be pending when this answers.
 */
import type { CreateReleaseRequest, Release } from '../contract/index.js';
import type { Principal } from '../core/permissions.js';
import type { PlatformConfig } from '../core/platform-config.js';
import { releasesTotal } from '../observability/metrics.js';
import type { ReleaseStore } from '../registry/index.js';
import type { SigningKey } from '../signing/index.js';
import type { Db } from '../store/db.js';
import { autoDeploy } from './auto-deploy.js';
import { createRelease, type PreparedResources } from './create-release.js';
import type { DeployContext } from './deployment-context.js';

export interface RegisterReleaseContext {
  db: Db;
  store: ReleaseStore;
  /** The platform config's `repositories` (a repository's own tagging strategy wins; issue #13 item 7). */
  repositories?: PlatformConfig['repositories'];
  /** Most Kubernetes objects one release may hold (never more than RELEASE_LIMITS.maxObjects). */
  maxResources: number;
  signingKey?: SigningKey;
  /** Test-only: a pause, ms, between the registry push and the commit. */
  pauseAfterPushMs?: number;
  /** The deployment machinery; absent, nothing is auto-deployed. */
  deploy?: DeployContext;
}

/**
 * Registers `req` as `actor`. Answers `created: true` with the new release (and its
 * auto-deploys), or `created: false` with the existing release of that commit, updated with
 * any new tags and trigger. Errors: those of createRelease (400, 409 alias_conflict, 413 past a
 * release limit, 503; 503 `server_busy` with Retry-After when the packing threads' queue is full).
 */
export async function registerRelease(
  ctx: RegisterReleaseContext,
  actor: Principal,
  req: CreateReleaseRequest,
  prepared: PreparedResources,
): Promise<{ created: boolean; release: Release }> {
  const result = await createRelease(ctx, actor, req, prepared).catch((err) => {
    releasesTotal.inc({ outcome: 'failed' });
    throw err;
  });
  releasesTotal.inc({ outcome: result.created ? 'created' : 'existing' });
  if (!result.created || !ctx.deploy) return result;
  return { created: true, release: { ...result.release, auto_deployments: await autoDeploy(ctx.deploy, result.release) } };
}
