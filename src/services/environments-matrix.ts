/**
 * GET /environments as a read model (DESIGN.md §7, §10): each configured environment's
 * promotion policy and the active release of each project there. The policies come from the
 * platform config; what runs comes from one query for the whole page (store/environments-matrix.ts),
 * read again only when the audit log's head moved (read-model-cache.ts); Argo CD's view of each
 * slot is read on every request.
 */
import type { Environment, EnvironmentsPage, EnvironmentsQuery } from '../contract/index.js';
import { decodeCursor, encodeCursor, refuseCursorWithOffset } from '../core/cursor.js';
import { validationError } from '../core/errors.js';
import type { Environment as ConfiguredEnvironment } from '../core/platform-config.js';
import { clusterStatuses } from '../store/cluster-outcomes.js';
import { activeInEnvironments } from '../store/environments-matrix.js';
import type { PlatformContext } from './deployment-context.js';
import { readAtHead } from './read-model-cache.js';

/** An environment's policy as the API shows it: durations in seconds. */
export function promotionPolicy(e: ConfiguredEnvironment): Environment['promotion_policy'] {
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
 * A page of the environments (the answer may be shared with other callers: do not change it), in the platform config's order (after `cursor`, else `offset`;
 * or only `environment`), each with its policy and the active deployment of every project
 * (optionally of one repository, matched without case, and project), by repository and
 * project; `next` names the page after. 400 for a cursor this server did not give or an
 * unknown environment.
 */
export async function environmentsMatrix(ctx: PlatformContext, query: EnvironmentsQuery): Promise<EnvironmentsPage> {
  const { limit = 20, repository, project } = query;
  const all = ctx.platform.environments;
  if (query.environment !== undefined && !all.some((e) => e.name === query.environment))
    throw validationError([
      { path: 'environment', message: `"${query.environment}" is not configured (expected one of ${all.map((e) => e.name).join(', ')})` },
    ]);
  refuseCursorWithOffset(query);
  const listed = query.environment === undefined ? all : all.filter((e) => e.name === query.environment);
  const offset = query.cursor === undefined ? (query.offset ?? 0) : afterCursor(listed, query.cursor);
  const page = listed.slice(offset, offset + limit);
  const filter = { environments: page.map((e) => e.name), repository: repository?.toLowerCase(), project };
  const active = await readAtHead(ctx.db, `active ${JSON.stringify(filter)}`, () => activeInEnvironments(ctx.db, filter));
  const cluster = await clusterStatuses(ctx.db, active);
  // Without Argo CD's word on any slot the page is a function of the rows kept and the page asked:
  // the same object is answered again (routes/environments.ts serialises each such object once).
  const shape = `${offset} ${limit}`;
  const kept = cluster.size === 0 ? unobserved.get(active)?.get(shape) : undefined;
  if (kept) return kept;
  const byEnvironment = new Map<string, Environment['deployments']>(page.map((e) => [e.name, []]));
  for (const { environment, ...d } of active)
    byEnvironment.get(environment)?.push({ ...d, cluster: cluster.get(`${environment}/${d.repository}/${d.project}`) ?? null });
  const items = page.map((e) => ({ name: e.name, promotion_policy: promotionPolicy(e), deployments: byEnvironment.get(e.name)! }));
  const next = offset + limit < listed.length ? encodeCursor([page[page.length - 1].name]) : null;
  const answer = { items, total: listed.length, limit, offset, next };
  if (cluster.size === 0) {
    if (!unobserved.has(active)) unobserved.set(active, new Map());
    unobserved.get(active)!.set(shape, answer);
  }
  return answer;
}

/** Pages built from one kept answer of the active deployments (read-model-cache.ts) when Argo CD observed none of them, by `offset limit`. */
const unobserved = new WeakMap<object, Map<string, EnvironmentsPage>>();

/** Where the page after the environment a cursor names starts. */
function afterCursor(listed: ConfiguredEnvironment[], cursor: string): number {
  const [name] = decodeCursor(cursor, ['string']);
  const at = listed.findIndex((e) => e.name === name);
  if (at < 0)
    throw validationError([{ path: 'cursor', message: 'is not a cursor this server gave (expected the `next` of a previous page)' }]);
  return at + 1;
}
