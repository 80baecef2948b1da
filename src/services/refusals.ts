/**
 * Refusals in the audit log (DESIGN.md §11): a request refused for want of a role
 * (`auth.permission_denied`) or by an environment's policy (`deployment.policy_denied`, with
 * the checks) is recorded, each in a transaction of its own, since the refused request changed
 * nothing to commit with. A failure to record is reported to `onFailure` and does not change
 * the answer the caller gets.
 */
import { ForgeError } from '../core/errors.js';
import type { Principal } from '../core/permissions.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';

/** Where a refused deployment was going, as the request named it; `release` is absent for a rollback. */
export interface RefusedTarget {
  environment: string;
  repository: string;
  project: string;
  release?: string;
}

async function record(
  db: Db,
  actor: string,
  event: { action: string; subject: string; details: Record<string, unknown> },
  onFailure: (err: unknown, action: string) => void,
): Promise<void> {
  try {
    await db.transaction((tx) => appendAudit(tx, { actor, ...event }));
  } catch (err) {
    onFailure(err, event.action);
  }
}

/**
 * Records a `permission_denied` refusal of `route` (`METHOD /path`): subject the route,
 * details the permission it needed (from the error) and the principal's roles.
 */
export function auditPermissionRefusal(
  db: Db,
  principal: Principal,
  route: string,
  err: ForgeError,
  onFailure: (err: unknown, action: string) => void,
) {
  return record(
    db,
    principal.subject,
    {
      action: 'auth.permission_denied',
      subject: route,
      details: { required: err.details?.required ?? null, roles: principal.roles },
    },
    onFailure,
  );
}

/**
 * Runs a deployment use case; when the policy refuses it (403 `policy_denied`), records the
 * refusal (subject `environment/repository/project`, details: the route, the release
 * reference, the reason and every check) and throws the refusal on.
 */
export async function auditingPolicyRefusal<T>(
  db: Db,
  principal: Principal,
  route: string,
  target: RefusedTarget,
  onFailure: (err: unknown, action: string) => void,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ForgeError && err.code === 'policy_denied') {
      await record(
        db,
        principal.subject,
        {
          action: 'deployment.policy_denied',
          subject: `${target.environment}/${target.repository}/${target.project}`,
          details: { route, release: target.release ?? null, reason: err.message, checks: err.details?.checks ?? [] },
        },
        onFailure,
      );
    }
    throw err;
  }
}
