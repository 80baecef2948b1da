/**
 * Automatic rollback (issue 15, `promotion_policy.auto_rollback: { on, within }`): when Argo CD
 * reports the active deployment Degraded, or its sync failed, within `within` of its pointer
 * commit, Forge deploys forward the newest release that was ever Healthy in that slot, as a
 * `rollback` (so freeze windows treat it as one, and it pins the slot once it lands), through
 * the same path as `forge rollback` (`deployRelease`: the same policy and preconditions, the
 * same outbox), and records why in the audit log (`deployment.rolled_back`, a webhook event).
 *
 * It never loops: the bad deployment's id is claimed once in the database (one row per bad
 * deployment, across replicas), and a rollback's own failure is never rolled back again
 * (the target was healthy before, and its rollback deployment is a new one that needs its own
 * degradation, which it is not rolled back from either: see `considerAutoRollback`).
 */
import type { Deployment } from '../contract/index.js';
import type { AutoRollbackCause } from '../core/platform-config.js';
import { findEnvironment } from '../core/platform-config.js';
import { appendAudit } from '../store/audit.js';
import * as outcomes from '../store/cluster-outcomes.js';
import * as deployments from '../store/deployments.js';
import * as releases from '../store/releases.js';
import { deployRelease } from './deploy.js';
import type { DeployContext } from './deployment-context.js';

/** The system actor of automatic rollbacks. */
export const AUTO_ROLLBACK_ACTOR = 'forge:auto-rollback';

export type AutoRollbackOutcome =
  | { rolledBack: true; deployment: Deployment }
  | {
      rolledBack: false;
      why: 'not_configured' | 'cause_not_listed' | 'outside_window' | 'is_rollback' | 'claimed' | 'no_healthy_release' | 'refused';
    };

/**
 * Considers rolling `bad` back after `cause`, now. Nothing happens when the environment has no
 * `auto_rollback`, the cause is not in its `on`, the deployment landed more than `within` ago,
 * the deployment is itself an automatic rollback, or its rollback was claimed before. A refusal
 * (the policy, a freeze) is recorded in the audit log as `deployment.auto_rollback_refused`.
 */
export async function considerAutoRollback(
  ctx: DeployContext,
  bad: Deployment,
  cause: AutoRollbackCause,
  now: Date = new Date(),
): Promise<AutoRollbackOutcome> {
  const env = findEnvironment(ctx.platform, bad.environment);
  const rule = env?.policy.autoRollback;
  if (!env || !rule) return { rolledBack: false, why: 'not_configured' };
  if (!rule.on.includes(cause)) return { rolledBack: false, why: 'cause_not_listed' };
  const landed = Date.parse(bad.finished_at ?? bad.deployed_at);
  if (now.getTime() - landed > rule.withinMs) return { rolledBack: false, why: 'outside_window' };
  if (bad.kind === 'rollback' && bad.deployed_by === AUTO_ROLLBACK_ACTOR) return { rolledBack: false, why: 'is_rollback' };
  if (!(await outcomes.claimAutoRollback(ctx.db, bad, cause))) return { rolledBack: false, why: 'claimed' };
  const targetId = await outcomes.lastHealthyRelease(ctx.db, bad, bad.release_id);
  const reason = `automatic rollback: release ${bad.release_number} turned ${cause === 'degraded' ? 'Degraded' : 'to a failed sync'} in ${bad.environment} within ${Math.round(rule.withinMs / 60_000)}m of its deployment ${bad.id}`;
  if (!targetId) {
    await outcomes.finishAutoRollback(ctx.db, bad.id, null, 'no release was ever healthy here before');
    await audit(ctx, 'deployment.auto_rollback_refused', bad, { cause, reason, error: 'no other release was ever healthy here' });
    return { rolledBack: false, why: 'no_healthy_release' };
  }
  const target = (await releases.findById(ctx.db, targetId))!;
  const current = await deployments.activeDeployment(ctx.db, bad.environment, bad.repository, bad.project);
  try {
    const d = await deployRelease(ctx, { subject: AUTO_ROLLBACK_ACTOR, roles: [] }, 'rollback', env, target, reason, current);
    await outcomes.finishAutoRollback(ctx.db, bad.id, d.id, d.status);
    const release = (await releases.findById(ctx.db, bad.release_id))!;
    await ctx.db.transaction((tx) =>
      appendAudit(tx, {
        actor: AUTO_ROLLBACK_ACTOR,
        action: 'deployment.rolled_back',
        subject: bad.id,
        details: {
          environment: bad.environment,
          repository: bad.repository,
          project: bad.project,
          release_number: bad.release_number,
          release: release.canonical_id,
          cause,
          reason,
          rolled_back_to: target.release_number,
          rollback_deployment_id: d.id,
          gitops_commit_sha: d.gitops_commit_sha,
          cdevent: {
            context: {
              specversion: '0.4.1',
              type: 'dev.cdevents.service.rolledback.0.2.0',
              source: 'forge',
              timestamp: new Date().toISOString(),
            },
            subject: {
              id: `${bad.repository}/${bad.project}`,
              source: 'forge',
              content: {
                environment: { id: bad.environment, source: 'forge' },
                artifactId: `${target.oci_uri.split('@')[0]}@${target.oci_digest}`,
              },
            },
          },
        },
      }),
    );
    return { rolledBack: true, deployment: d };
  } catch (err) {
    await outcomes.finishAutoRollback(ctx.db, bad.id, null, `refused: ${(err as Error).message}`);
    await audit(ctx, 'deployment.auto_rollback_refused', bad, { cause, reason, error: (err as Error).message });
    return { rolledBack: false, why: 'refused' };
  }
}

async function audit(ctx: DeployContext, action: string, bad: Deployment, details: Record<string, unknown>) {
  await ctx.db.transaction((tx) =>
    appendAudit(tx, {
      actor: AUTO_ROLLBACK_ACTOR,
      action,
      subject: bad.id,
      details: {
        environment: bad.environment,
        repository: bad.repository,
        project: bad.project,
        release_number: bad.release_number,
        ...details,
      },
    }),
  );
}
