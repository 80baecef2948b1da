/**
 * What the environments matrix and the approvals queue read: GET /overview, the server's read
 * model of what runs where and what each project's latest release may do in each environment
 * (judged by the server's own policy rules: the dashboard evaluates none). 1,000 projects are
 * two requests. The project and release pages read GET /environments.
 */
import {
  type AuditEntry,
  type Environment,
  type EnvironmentDeployment,
  get,
  type LatestInEnvironment,
  type List,
  type OverviewPage,
  type OverviewRow,
  type PromotionPolicy,
  q,
} from './api.js';

/** What runs in an environment for one project (GET /environments, GET /overview). */
export type Running = EnvironmentDeployment;

export interface EnvironmentView {
  name: string;
  policy: PromotionPolicy;
  /** The active deployment per project, keyed by `owner/name/project`. */
  active: Map<string, Running>;
}

export const projectKey = (repository: string, project: string) => `${repository}/${project}`;

export async function loadEnvironments(): Promise<EnvironmentView[]> {
  const answer = await get<List<Environment>>(`/environments${q({ limit: 200 })}`);
  return answer.items.map((e) => ({
    name: e.name,
    policy: e.promotion_policy,
    active: new Map(e.deployments.map((d) => [projectKey(d.repository, d.project), d])),
  }));
}

/** Rows per request: the server's maximum. */
export const PAGE_ROWS = 500;

export interface OverviewFilter {
  repository?: string;
  project?: string;
  waiting?: boolean;
}

/** The overview's columns and rows as far as loaded; `total` rows match in all. */
export interface Overview {
  environments: OverviewPage['environments'];
  rows: OverviewRow[];
  total: number;
}

/**
 * Every page of GET /overview for `filter`, following `next`; `onPage` sees each page's
 * accumulated result as it arrives (the matrix draws the first rows before the rest come).
 */
export async function loadOverviewRows(filter: OverviewFilter = {}, onPage?: (sofar: Overview) => void): Promise<Overview> {
  let cursor: string | undefined;
  let result: Overview | undefined;
  do {
    const page = await get<OverviewPage>(
      `/overview${q({ limit: PAGE_ROWS, cursor, repository: filter.repository, project: filter.project, waiting: filter.waiting ? 'true' : undefined })}`,
    );
    result = { environments: page.environments, rows: [...(result?.rows ?? []), ...page.items], total: page.total };
    cursor = page.next ?? undefined;
    if (cursor) onPage?.(result);
  } while (cursor);
  return result;
}

/** A release waiting for approvals in one environment (the approvals queue). */
export interface Waiting {
  environment: string;
  release: OverviewRow['latest_release'] & { repository: string; project: string };
  /** The release running there now, if any. */
  running?: Running;
  state: LatestInEnvironment['approvals'];
}

/** The cells of `rows` whose latest release waits for approvals. */
export function waitingIn(rows: OverviewRow[]): Waiting[] {
  return rows.flatMap((r) =>
    r.environments
      .filter((c) => c.latest?.state === 'waiting')
      .map((c) => ({
        environment: c.environment,
        release: { ...r.latest_release, repository: r.repository, project: r.project },
        running: c.running ?? undefined,
        state: c.latest!.approvals,
      })),
  );
}

/** The approvals queue's data: the environments and every release waiting for approvals (GET /overview?waiting=true). */
export async function loadOverview(): Promise<{ environments: Overview['environments']; waiting: Waiting[] }> {
  const o = await loadOverviewRows({ waiting: true });
  return { environments: o.environments, waiting: waitingIn(o.rows) };
}

/** `0 of 1 approval`: distinct active approvers against the environment's requirement. */
export function approvalsNeeded(state: LatestInEnvironment['approvals']): string {
  return `${state.given} of ${state.required} approval${state.required === 1 ? '' : 's'}`;
}

/**
 * The projects an audit entry names (events carry audit entries): a deployment's or pin's
 * repository and project, a release's canonical id (`owner/name/project/sha`). Undefined when it
 * names none the page can tell (an approval revoked by id): then everything is reloaded.
 */
export function projectOf(e: AuditEntry): { repository: string; project: string } | undefined {
  const d = e.details as Record<string, unknown>;
  if (typeof d.repository === 'string' && typeof d.project === 'string') return { repository: d.repository, project: d.project };
  const canonical = typeof d.release === 'string' ? d.release : e.action.startsWith('release.') ? e.subject : undefined;
  const fromCanonical = canonical?.split('/');
  if (fromCanonical && fromCanonical.length >= 4)
    return { repository: fromCanonical.slice(0, -2).join('/'), project: fromCanonical[fromCanonical.length - 2] };
  const pin = e.action.startsWith('pin.') ? e.subject.split('/') : undefined; // environment/owner/name/project
  if (pin && pin.length >= 4) return { repository: pin.slice(1, -1).join('/'), project: pin[pin.length - 1] };
  return undefined;
}
