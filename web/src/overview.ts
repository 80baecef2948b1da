/**
 * What the environments matrix and the approvals queue share: environments with what runs in
 * them (GET /environments), projects with their latest release (GET /projects), and which
 * latest releases wait for an approval (POST /policy-checks, the server's own dry run).
 */
import {
  type ApprovalState,
  type Environment,
  type EnvironmentDeployment,
  get,
  type List,
  type PolicyResult,
  type ProjectSummary,
  type PromotionPolicy,
  post,
  q,
  type Release,
} from './api.js';

/** What runs in an environment for one project (GET /environments). */
export type Running = EnvironmentDeployment;

export interface EnvironmentView {
  name: string;
  policy: PromotionPolicy;
  /** The active deployment per project, keyed by `owner/name/project`. */
  active: Map<string, Running>;
}

export interface Waiting {
  environment: string;
  release: Release;
  /** The release running there now, if any. */
  running?: Running;
  policy: PolicyResult;
  state: ApprovalState;
}

export interface Overview {
  environments: EnvironmentView[];
  projects: ProjectSummary[];
  waiting: Waiting[];
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

export async function loadProjects(): Promise<ProjectSummary[]> {
  return (await get<List<ProjectSummary>>(`/projects${q({ limit: 200 })}`)).items;
}

/**
 * The latest release of each project that is not running in an environment needing approval,
 * that the environment's trigger and branch rules admit, and that lacks approvals: it waits
 * for an approver.
 */
export async function loadWaiting(environments: EnvironmentView[], projects: ProjectSummary[]): Promise<Waiting[]> {
  const asks: Promise<Waiting | undefined>[] = [];
  for (const env of environments.filter((e) => e.policy.requires_approval)) {
    for (const p of projects) {
      const running = env.active.get(projectKey(p.repository, p.project));
      const release = p.latest_release;
      if (running && running.release_number >= release.release_number) continue;
      asks.push(
        Promise.all([
          post<PolicyResult>('/policy-checks', {
            repository: p.repository,
            project: p.project,
            environment: env.name,
            release: String(release.release_number),
          }),
          get<ApprovalState>(`/approvals/${encodeURIComponent(release.id)}/${encodeURIComponent(env.name)}`),
        ]).then(([policy, state]) => {
          const admitted = policy.checks.every((c) => c.ok || c.name === 'approvals');
          return admitted && !state.satisfied ? { environment: env.name, release, running, policy, state } : undefined;
        }),
      );
    }
  }
  return (await Promise.all(asks)).filter((w): w is Waiting => !!w);
}

export async function loadOverview(): Promise<Overview> {
  const [environments, projects] = await Promise.all([loadEnvironments(), loadProjects()]);
  return { environments, projects, waiting: await loadWaiting(environments, projects) };
}

/** `0 of 1 approval`: distinct active approvers against the environment's requirement. */
export function approvalsNeeded(state: ApprovalState): string {
  const have = new Set(state.approvals.filter((a) => a.status === 'active').map((a) => a.approver)).size;
  return `${have} of ${state.required} approval${state.required === 1 ? '' : 's'}`;
}
