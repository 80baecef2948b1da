/**
 * Auto-deploy (DESIGN.md §6 step 4, §7): after a release is registered, it goes to every
 * environment with `auto_deploy: true`, as forge:auto-deploy, through the same rule list as any
 * deployment plus the pin rule. Refusals are recorded as failed deployments; pushes continue in
 * the background (awaited when the deployment context closes).
 */
import type { AutoDeployment, Release } from '../contract/index.js';
import * as deployments from '../store/deployments.js';
import type { DeployContext } from './deployment-context.js';
import { decideDeployment, policyDenied } from './deployment-policy.js';
import { completeDeployment, recordPending, recordRefused } from './outbox.js';

/** The system actor that makes auto-deploys (DESIGN.md §7). */
export const AUTO_DEPLOY_ACTOR = 'forge:auto-deploy';

/**
 * Records an auto-deploy of `release` to each auto-deploy environment where it is not already
 * active; answers one entry per deployment recorded: `pending` (its push goes on in the background) or `failed` (refused by the policy). Never throws: a deployment that could not
 * be recorded is reported on stderr and skipped.
 */
export async function autoDeploy(ctx: DeployContext, release: Release): Promise<AutoDeployment[]> {
  const out: AutoDeployment[] = [];
  for (const env of ctx.platform.environments.filter((e) => e.policy.autoDeploy)) {
    try {
      const current = await deployments.activeDeployment(ctx.db, env.name, release.repository, release.project);
      if (current?.release_id === release.id) continue;
      const decision = await decideDeployment(ctx, env, release, AUTO_DEPLOY_ACTOR, true);
      const request = { kind: 'auto' as const, environment: env.name, release, actor: AUTO_DEPLOY_ACTOR, decision, current };
      if (!decision.allowed) {
        out.push({
          id: await recordRefused(ctx, request, policyDenied(env, release, decision).message),
          environment: env.name,
          status: 'failed',
        });
        continue;
      }
      const work = await recordPending(ctx, request);
      out.push({ id: work.id, environment: env.name, status: 'pending' });
      // Nobody awaits it: a failure to record its outcome (the database gone) is reported, and the
      // row, still pending, is completed by a recovery sweep once its lease expires.
      const job = completeDeployment(ctx, work)
        .catch((err) =>
          process.stderr.write(
            `auto-deploy ${work.id} of ${release.canonical_id} to ${env.name} could not be completed now: ${(err as Error).message}; recovery completes it once its lease expires\n`,
          ),
        )
        .finally(() => ctx.inflight.delete(job));
      ctx.inflight.add(job);
    } catch (err) {
      process.stderr.write(`auto-deploy of ${release.canonical_id} to ${env.name} could not be recorded: ${(err as Error).message}\n`);
    }
  }
  return out;
}
