/** The deployment read models (DESIGN.md §8, §10): the active deployment of a slot, and its history. */
import type { Deployment, List, SlotParams } from '../contract/index.js';
import { windowOf } from '../core/cursor.js';
import { ForgeError } from '../core/errors.js';
import * as clusterOutcomes from '../store/cluster-outcomes.js';
import * as deployments from '../store/deployments.js';
import type { PlatformContext } from './deployment-context.js';
import { checkTarget } from './target.js';

/** `/{env}/{owner}/{name}/{project}` → the slot, checked (400) and its environment configured (404). */
function slotOf(ctx: PlatformContext, p: SlotParams) {
  const { repository, project, environment } = checkTarget(ctx, {
    repository: `${p.owner}/${p.name}`,
    project: p.project,
    environment: p.env,
  });
  return { repository, project, environment: environment.name };
}

/**
 * The deployment active in the slot, with Argo CD's view of the slot (`cluster`, null until
 * Argo CD reported) and its timeline (committed → synced → healthy / degraded, issue 15); 404
 * when no release of the project is active there.
 */
export async function activeDeploymentOf(ctx: PlatformContext, p: SlotParams): Promise<Deployment> {
  const s = slotOf(ctx, p);
  const active = await deployments.activeDeployment(ctx.db, s.environment, s.repository, s.project);
  if (!active) throw new ForgeError('not_found', `no release of ${s.repository}/${s.project} is active in ${s.environment}`);
  const [cluster, outcome] = await Promise.all([
    clusterOutcomes.clusterStatuses(ctx.db, [s]),
    clusterOutcomes.outcomeOf(ctx.db, active.id),
  ]);
  // Only Argo CD's view of this deployment (clusterStatuses): never an earlier deployment's sync or health.
  const view = cluster.get(`${s.environment}/${s.repository}/${s.project}`);
  return {
    ...active,
    cluster: view?.deployment_id === active.id ? view : null,
    timeline: {
      committed_at: active.finished_at,
      synced_at: outcome?.synced_at ?? null,
      healthy_at: outcome?.healthy_at ?? null,
      degraded_at: outcome?.degraded_at ?? null,
      sync_failed_at: outcome?.sync_failed_at ?? null,
    },
  };
}

/**
 * A page of every deployment of the slot, newest first in the order they were recorded: `limit`
 * after `cursor` (the `next` of a previous page), else after `offset` (none: 0). 400 for a
 * cursor this list did not give or a cursor given with an offset.
 */
export async function deploymentHistoryOf(
  ctx: PlatformContext,
  p: SlotParams,
  limit: number,
  offset: number | undefined,
  cursor?: string,
): Promise<List<Deployment>> {
  const s = slotOf(ctx, p);
  const window = windowOf({ limit, offset, cursor }, ['integer']);
  const afterSeq = window.after?.[0] as number | undefined;
  return {
    ...(await deployments.deploymentHistory(ctx.db, s.environment, s.repository, s.project, limit, window.offset, afterSeq)),
    limit,
    offset: window.offset,
  };
}
