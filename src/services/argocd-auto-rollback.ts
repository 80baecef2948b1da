/**
 * Automatic rollback (issue 15, `promotion_policy.auto_rollback: { on, within }`): when Argo CD
 * reports the active deployment Degraded, or its sync failed, within `within` of its pointer
 * commit, Forge deploys forward the newest release that was ever Healthy in that slot, as a
 * `rollback` (so freeze windows treat it as one, and it pins the slot once it lands), through
 * the same path as `forge rollback` (`deployRelease`: the same policy and preconditions, the
 * same outbox), and records why in the audit log (`deployment.rolled_back`, a webhook event).
 *
 * It never loops: the bad release is claimed once per environment in the database (one row,
 * across replicas), and a rollback's own failure is never rolled back again. Those two
 * refusals are not silent: a later deployment of a release already rolled back automatically
 * there, or an automatic rollback, that turns degraded (or fails to sync) within the window is
 * recorded once as `deployment.auto_rollback_refused` with its reason (audit log, webhooks),
 * and left for a person to roll back.
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
      why:
        | 'not_configured'
        | 'cause_not_listed'
        | 'outside_window'
        | 'is_rollback'
        | 'already_rolled_back'
        | 'claimed'
        | 'no_healthy_release'
        | 'refused';
    };

/**
 * Considers rolling `bad` back after `cause`, now. Nothing happens when the environment has no
 * `auto_rollback`, the cause is not in its `on`, the deployment landed more than `within` ago,
 * or this deployment's rollback was claimed before (another replica, the sweep). A refusal is
 * recorded in the audit log as `deployment.auto_rollback_refused`, once per bad deployment:
 * the policy or a freeze refused the rollback, no release was healthy there before, the
 * deployment is itself an automatic rollback, or its release was already rolled back
 * automatically in this environment (one automatic rollback per bad release). `reportedBy`
 * (who reported the failure: the posting token's subject, or the poll) goes in its details.
 */
export async function considerAutoRollback(
  ctx: DeployContext,
  bad: Deployment,
  cause: AutoRollbackCause,
  now: Date = new Date(),
  reportedBy?: string,
): Promise<AutoRollbackOutcome> {
  const env = findEnvironment(ctx.platform, bad.environment);
  const rule = env?.policy.autoRollback;
  if (!env || !rule) return { rolledBack: false, why: 'not_configured' };
  if (!rule.on.includes(cause)) return { rolledBack: false, why: 'cause_not_listed' };
  const landed = Date.parse(bad.finished_at ?? bad.deployed_at);
  if (now.getTime() - landed > rule.withinMs) return { rolledBack: false, why: 'outside_window' };
  const reason = `automatic rollback: release ${bad.release_number} turned ${cause === 'degraded' ? 'Degraded' : 'to a failed sync'} in ${bad.environment} within ${Math.round(rule.withinMs / 60_000)}m of its deployment ${bad.id}`;
  const reporter = reportedBy ? { reported_by: reportedBy } : {};
  /** Records, once per bad deployment (across replicas and sweeps), why it is not rolled back. */
  const refuseOnce = async (why: 'is_rollback' | 'already_rolled_back', error: string, extra: Record<string, unknown> = {}) => {
    if (await outcomes.recordAutoRollbackRefusal(ctx.db, bad, cause, error))
      await audit(ctx, 'deployment.auto_rollback_refused', bad, { cause, reason, error, ...extra, ...reporter });
    return { rolledBack: false as const, why };
  };
  if (bad.kind === 'rollback' && bad.deployed_by === AUTO_ROLLBACK_ACTOR)
    return refuseOnce(
      'is_rollback',
      'this deployment is itself an automatic rollback: it is never rolled back automatically (no loop); roll back by hand',
    );
  if (!(await outcomes.claimAutoRollback(ctx.db, bad, cause))) {
    const earlier = await outcomes.autoRollbackOfRelease(ctx.db, bad.environment, bad.release_id);
    if (!earlier || earlier.bad_deployment_id === bad.id) return { rolledBack: false, why: 'claimed' };
    return refuseOnce(
      'already_rolled_back',
      `release ${bad.release_number} was already rolled back automatically in ${bad.environment} (deployment ${earlier.bad_deployment_id}): one automatic rollback per bad release; roll back by hand`,
      { earlier_bad_deployment_id: earlier.bad_deployment_id, earlier_rollback_deployment_id: earlier.rollback_deployment_id },
    );
  }
  const targetId = await outcomes.lastHealthyRelease(ctx.db, bad, bad.release_id);
  if (!targetId) {
    await outcomes.finishAutoRollback(ctx.db, bad.id, null, 'no release was ever healthy here before');
    await audit(ctx, 'deployment.auto_rollback_refused', bad, {
      cause,
      reason,
      error: 'no other release was ever healthy here',
      ...reporter,
    });
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
          ...reporter,
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
    await audit(ctx, 'deployment.auto_rollback_refused', bad, { cause, reason, error: (err as Error).message, ...reporter });
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
