/**
 * GET /overview as a read model (issue #18, DESIGN.md §7, §10): per project and environment,
 * what runs there and what the project's latest release may do there. The verdict is THE rule
 * list (core/policy) through deployment-policy.ts's decideFrom, the function the dry run (POST
 * /policy-checks) and every deployment decide with, over facts read for the whole page at once:
 * a page costs a handful of queries (projects, active deployments, Argo CD status, approvals,
 * and break-glass grants when an environment has freeze windows), not one per project, each
 * read again only when the audit log's head moved (read-model-cache.ts); the verdicts are
 * computed on every request (they depend on the time). Only verification gates (`requires`)
 * are still read per project and gated environment.
 */
import type { OverviewCell, OverviewPage, OverviewQuery, OverviewRow } from '../contract/index.js';
import { decodeCursor, encodeCursor, refuseCursorWithOffset } from '../core/cursor.js';
import { validationError } from '../core/errors.js';
import { isAllowed, type Principal } from '../core/permissions.js';
import type { Environment } from '../core/platform-config.js';
import { clusterStatuses, healthyStretch } from '../store/cluster-outcomes.js';
import { activeInEnvironments } from '../store/environments-matrix.js';
import { type ApprovalFact, approvalsOf, type GrantFact, grantsOf, type LatestRelease, latestReleases } from '../store/overview.js';
import type { PlatformContext } from './deployment-context.js';
import { type DecisionFacts, decideFrom } from './deployment-policy.js';
import { promotionPolicy } from './environments-matrix.js';
import { readAtHead } from './read-model-cache.js';

/** The cursor of the page after `row`: its repository and project (src/core/cursor.ts, as GET /projects'). */
export function cursorAfter(row: { repository: string; project: string }): string {
  return encodeCursor([row.repository, row.project]);
}

function decodeProjectCursor(cursor: string): { repository: string; project: string } {
  const [repository, project] = decodeCursor(cursor, ['string', 'string']) as string[];
  return { repository, project };
}

/** The configured environments shown: all, or the one asked for (400 naming it when unknown). */
function shownEnvironments(ctx: PlatformContext, name: string | undefined): Environment[] {
  if (name === undefined) return ctx.platform.environments;
  const e = ctx.platform.environments.find((x) => x.name === name);
  if (!e)
    throw validationError([
      {
        path: 'environment',
        message: `"${name}" is not configured (expected one of ${ctx.platform.environments.map((x) => x.name).join(', ')})`,
      },
    ]);
  return [e];
}

/** An approval's state at `now`: revoked, expired, else active (as the approvals store reports it). */
const approvalStatus = (a: ApprovalFact, now: Date) =>
  a.revoked_at ? 'revoked' : Date.parse(a.expires_at) <= now.getTime() ? 'expired' : 'active';

const slot = (environment: string, repository: string, project: string) => `${environment}/${repository}/${project}`;

/** The rows of `latest`, each cell judged for `principal` as the deployer of a manual deployment. */
async function judge(ctx: PlatformContext, principal: Principal, envs: Environment[], latest: LatestRelease[]): Promise<OverviewRow[]> {
  if (!latest.length) return [];
  const names = envs.map((e) => e.name);
  const slots = { environments: names, projects: latest.map((l) => ({ repository: l.repository, project: l.project })) };
  const active = await readAtHead(ctx.db, `active ${JSON.stringify(slots)}`, () => activeInEnvironments(ctx.db, slots));
  const cluster = await clusterStatuses(ctx.db, active);
  const running = new Map(
    active.map(({ environment, ...d }) => [
      slot(environment, d.repository, d.project),
      { ...d, cluster: cluster.get(slot(environment, d.repository, d.project)) ?? null },
    ]),
  );
  const approvals = new Map<string, ApprovalFact[]>();
  const digests = latest.map((l) => l.oci_digest);
  for (const a of await readAtHead(ctx.db, `approvals ${JSON.stringify([digests, names])}`, () => approvalsOf(ctx.db, digests, names))) {
    const k = `${a.release_digest} ${a.environment}`;
    approvals.set(k, [...(approvals.get(k) ?? []), a]);
  }
  const grants = new Map<string, GrantFact[]>();
  if (envs.some((e) => e.freezeWindows?.length))
    for (const g of await readAtHead(ctx.db, `grants ${latest.map((l) => l.id).join(',')}`, () =>
      grantsOf(
        ctx.db,
        latest.map((l) => l.id),
      ),
    )) {
      const k = `${g.release_id} ${g.release_digest} ${g.environment}`;
      grants.set(k, [...(grants.get(k) ?? []), g]);
    }
  const now = new Date();
  const rows: OverviewRow[] = [];
  for (const l of latest) {
    const cells: OverviewCell[] = [];
    for (const env of envs) {
      const facts: DecisionFacts = {
        approvals: (approvals.get(`${l.oci_digest} ${env.name}`) ?? []).map((a) => ({ ...a, status: approvalStatus(a, now) })),
        breakGlass: (env.freezeWindows?.length ? (grants.get(`${l.id} ${l.oci_digest} ${env.name}`) ?? []) : []).map((g) => ({
          id: g.id,
          granted_by: g.granted_by,
          granted_at: g.granted_at,
          expires_at: g.expires_at,
        })),
        verification: await Promise.all(
          (env.policy.requires ?? []).map(async (g) => {
            const stretch = await healthyStretch(ctx.db, l.id, g.environment);
            return { environment: g.environment, healthyForMs: g.healthyForMs, healthySince: stretch.since, longestMs: stretch.longestMs };
          }),
        ),
      };
      const forCaller = decideFrom(env, l, principal.subject, false, facts, { action: 'manual', at: now });
      // Whether approvals are missing whoever deploys (no approval is anyone's own), as GET /approvals/{release}/{env} counts them.
      const forAnyone = env.policy.requiresApproval ? decideFrom(env, l, null, false, facts, { action: 'manual', at: now }) : forCaller;
      const approvalsCheck = forAnyone.checks.find((c) => c.name === 'approvals');
      const failedForAnyone = forAnyone.checks.filter((c) => !c.ok).map((c) => c.name);
      const here = running.get(slot(env.name, l.repository, l.project)) ?? null;
      const state =
        here && here.release_number >= l.release_number
          ? 'running'
          : failedForAnyone.length === 1 && failedForAnyone[0] === 'approvals'
            ? 'waiting'
            : forCaller.allowed
              ? 'deployable'
              : 'refused';
      const mine = facts.approvals.some((a) => a.status === 'active' && a.approver === principal.subject);
      cells.push({
        environment: env.name,
        running: here,
        latest: {
          release_number: l.release_number,
          state,
          allowed: forCaller.allowed,
          approvals: {
            given: typeof approvalsCheck?.actual === 'number' ? approvalsCheck.actual : 0,
            required: typeof approvalsCheck?.required === 'number' ? approvalsCheck.required : 0,
          },
          failed: forCaller.checks.filter((c) => !c.ok).map((c) => ({ name: c.name, reason: c.reason ?? 'failed' })),
          waits_for_me: state === 'waiting' && !mine && isAllowed(principal, { kind: 'approve', environment: env.name }),
        },
      });
    }
    rows.push({
      repository: l.repository,
      project: l.project,
      latest_release: {
        id: l.id,
        release_number: l.release_number,
        commit_sha: l.commit_sha,
        aliases: [{ alias: String(l.release_number), alias_type: 'numeric' }, ...l.aliases],
        created_at: l.created_at,
        triggers: l.triggers,
        source: l.source,
      },
      environments: cells,
    });
  }
  return rows;
}

/**
 * A page of the overview for `principal` (see OverviewQuery for paging and filters). Without
 * `waiting`/`waits_for_me` the database pages (keyset after `cursor`, else `offset`); with them
 * every matching project is judged and the page is cut from those that wait. 400 for an unknown
 * environment or a cursor this server did not give.
 */
export async function overview(ctx: PlatformContext, principal: Principal, query: OverviewQuery): Promise<OverviewPage> {
  refuseCursorWithOffset(query);
  const { limit = 100, offset = 0 } = query;
  const envs = shownEnvironments(ctx, query.environment);
  const after = query.cursor === undefined ? undefined : decodeProjectCursor(query.cursor);
  const filter = { repository: query.repository?.toLowerCase(), project: query.project, search: query.q?.toLowerCase() || undefined };
  const environments = envs.map((e) => ({ name: e.name, promotion_policy: promotionPolicy(e) }));
  const pageOffset = after ? 0 : offset;
  if (!query.waiting && !query.waits_for_me) {
    const window = { after, offset: pageOffset, limit: limit + 1 };
    const { items, total } = await readAtHead(ctx.db, `latest ${JSON.stringify([filter, window])}`, () =>
      latestReleases(ctx.db, filter, window),
    );
    const page = items.slice(0, limit);
    const rows = await judge(ctx, principal, envs, page);
    return {
      environments,
      items: rows,
      total,
      limit,
      offset: pageOffset,
      next: items.length > limit ? cursorAfter(page[page.length - 1]) : null,
    };
  }
  const { items } = await readAtHead(ctx.db, `latest ${JSON.stringify([filter])}`, () =>
    latestReleases(ctx.db, filter, { offset: 0, limit: null }),
  );
  const wanted = (await judge(ctx, principal, envs, items)).filter((r) =>
    r.environments.some((c) => (query.waits_for_me ? c.latest?.waits_for_me : c.latest?.state === 'waiting')),
  );
  // Rows after the cursor in the database's order (its collation, not JavaScript's).
  const position = new Map(items.map((l, i) => [`${l.repository}/${l.project}`, i]));
  const cut = after ? (position.get(`${after.repository}/${after.project}`) ?? -1) : -1;
  const from = after ? wanted.filter((r) => position.get(`${r.repository}/${r.project}`)! > cut) : wanted.slice(pageOffset);
  const page = from.slice(0, limit);
  return {
    environments,
    items: page,
    total: wanted.length,
    limit,
    offset: pageOffset,
    next: from.length > limit ? cursorAfter(page[page.length - 1]) : null,
  };
}
