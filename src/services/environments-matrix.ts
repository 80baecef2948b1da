/**
 * GET /environments as a read model (DESIGN.md §7, §10): each configured environment's
 * promotion policy and the active release of each project there. The policies come from the
 * platform config; what runs comes from one query for the whole page (store/environments-matrix.ts).
 */
import type { Environment, EnvironmentsQuery, List } from '../contract/index.js';
import type { Environment as ConfiguredEnvironment } from '../core/platform-config.js';
import { clusterStatuses } from '../store/cluster-outcomes.js';
import { activeInEnvironments } from '../store/environments-matrix.js';
import type { PlatformContext } from './deployment-context.js';

/** An environment's policy as the API shows it: durations in seconds. */
function promotionPolicy(e: ConfiguredEnvironment): Environment['promotion_policy'] {
  const p = e.policy;
  return {
    allowed_triggers: p.allowedTriggers,
    allowed_branches: p.allowedBranches,
    auto_deploy: p.autoDeploy,
    requires_approval: p.requiresApproval,
    approvals: {
      required: p.approvals.required,
      expires_after_seconds: p.approvals.expiresAfterMs / 1000,
      allow_self_approval: p.approvals.allowSelfApproval,
    },
    ...(p.requires?.length
      ? { requires: p.requires.map((g) => ({ environment: g.environment, healthy_for_seconds: g.healthyForMs / 1000 })) }
      : {}),
    ...(p.autoRollback ? { auto_rollback: { on: p.autoRollback.on, within_seconds: p.autoRollback.withinMs / 1000 } } : {}),
  };
}

/**
 * A page of the environments, in the platform config's order, each with its policy and the
 * active deployment of every project (optionally of one repository, matched without case, and
 * project), by repository and project.
 */
export async function environmentsMatrix(ctx: PlatformContext, query: EnvironmentsQuery): Promise<List<Environment>> {
  const { limit = 20, offset = 0, repository, project } = query;
  const page = ctx.platform.environments.slice(offset, offset + limit);
  const active = await activeInEnvironments(ctx.db, {
    environments: page.map((e) => e.name),
    repository: repository?.toLowerCase(),
    project,
  });
  const cluster = await clusterStatuses(ctx.db, active);
  const items = page.map((e) => ({
    name: e.name,
    promotion_policy: promotionPolicy(e),
    deployments: active
      .filter((d) => d.environment === e.name)
      .map(({ environment, ...d }) => ({ ...d, cluster: cluster.get(`${environment}/${d.repository}/${d.project}`) ?? null })),
  }));
  return { items, total: ctx.platform.environments.length, limit, offset };
}
