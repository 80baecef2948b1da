/**
 * The dry run (DESIGN.md §7, POST /policy-checks, `forge deploy --dry-run`, the dashboard's
 * "waiting for approval" list): every check of the environment policy for a would-be
 * deployment, through the same rule list as the real one, deploying nothing. `at` (RFC 3339)
 * evaluates the time-based rules (freeze windows, break-glass and approval expiry) at another
 * moment; `kind` (auto, manual, rollback; default manual) is the kind of deployment a freeze
 * window's `applies_to` is matched against (issue #16).
 */

import type { PolicyCheckRequest, PolicyResult } from '../contract/index.js';
import { validationError } from '../core/errors.js';
import type { Principal } from '../core/permissions.js';
import { parseRfc3339, rfc3339Problem } from '../core/rfc3339.js';
import * as releases from '../store/releases.js';
import type { PlatformContext } from './deployment-context.js';
import { decideDeployment, resolvedRelease } from './deployment-policy.js';
import { checkTarget } from './target.js';

/** `{ allowed, checks, release }` (the release `body.release` resolved to) for `principal` as the deployer; 400/404 as a deployment would answer them; 400 for a bad `at`. */
export async function checkPolicy(
  ctx: PlatformContext,
  principal: Principal,
  body: Omit<PolicyCheckRequest, 'reason'> & { reason?: string },
): Promise<PolicyResult> {
  const at = body.at === undefined ? undefined : parseRfc3339(body.at);
  if (body.at !== undefined && !at) throw validationError([{ path: 'at', message: rfc3339Problem(body.at)! }]);
  const { repository, project, environment } = checkTarget(ctx, body);
  const release = await releases.resolveRelease(ctx.db, repository, project, body.release);
  const kind = body.kind ?? 'manual';
  const { allowed, checks } = await decideDeployment(ctx, environment, release, principal.subject, kind === 'auto', { action: kind, at });
  return { allowed, checks, release: resolvedRelease(release) };
}
