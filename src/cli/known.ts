/**
 * Telling "nothing yet" from "no such thing": a client command whose answer is empty asks the
 * server whether the repository and project it named have any release at all, so a typo
 * (`forge status nope`, `--repository acme/mnoo`) exits 1 naming what exists instead of
 * printing an empty table.
 */
import type { List, ProjectSummary } from '../contract/index.js';
import type { Client } from './client.js';

/** Every project the server has releases of (`GET /projects`, 200 a page, following its `next` cursor). */
async function knownProjects(api: Client): Promise<{ repository: string; project: string }[]> {
  const out: { repository: string; project: string }[] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ limit: '200' });
    if (cursor) q.set('cursor', cursor);
    const page: List<ProjectSummary> = await api.request<List<ProjectSummary>>('GET', `/projects?${q}`);
    out.push(...page.items.map((p) => ({ repository: p.repository, project: p.project })));
    cursor = page.next;
  } while (cursor);
  return out;
}

/**
 * Throws a one-line error (with the known names as a hint) when `repository` has no releases
 * on the server, or `project` (when given) is not one of its projects; returns quietly otherwise.
 * `repository` undefined = any repository.
 */
export async function assertKnown(api: Client, repository: string | undefined, project: string | undefined): Promise<void> {
  const all = await knownProjects(api);
  const inRepo = repository ? all.filter((p) => p.repository === repository) : all;
  if (repository && !inRepo.length) {
    const repos = [...new Set(all.map((p) => p.repository))].sort();
    throw new Error(
      `the server has no releases of repository ${repository}\nhint: known repositories: ${repos.join(', ') || 'none yet'} (--repository owner/name, default: the origin remote)`,
    );
  }
  if (project && !inRepo.some((p) => p.project === project)) {
    const names = [...new Set(inRepo.map((p) => p.project))].sort();
    throw new Error(
      `no project ${project}${repository ? ` in ${repository}` : ''} has releases on the server\nhint: known projects: ${names.join(', ') || 'none yet'}`,
    );
  }
}
