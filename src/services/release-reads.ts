/**
 * The release read models (DESIGN.md §3, §10): a project's releases, one release by any
 * reference, its rendered manifests, and every project
 * with its latest release.
 */
import type { List, ProjectParams, ProjectSummary, Release } from '../contract/index.js';
import { parseIdentity } from '../core/identity.js';
import type { ReleaseStore } from '../registry/index.js';
import type { Db } from '../store/db.js';
import * as releases from '../store/releases.js';
import { releaseManifests } from './release-manifests.js';

export interface ReleaseReadContext {
  db: Db;
  store: ReleaseStore;
}

/** `{owner, name, project}` of a path → the repository and project, checked (400 naming the path segment). */
function projectOf(p: ProjectParams) {
  const id = parseIdentity(
    { repository: `${p.owner}/${p.name}`, project: p.project, sha: '0'.repeat(40) },
    {
      repository: 'path.owner/name',
      project: 'path.project',
      sha: 'path.sha',
    },
  );
  return { repository: id.repository, project: id.project };
}

/** A page of a project's releases, newest first. */
export async function listReleases(ctx: ReleaseReadContext, p: ProjectParams, limit: number, offset: number): Promise<List<Release>> {
  const { repository, project } = projectOf(p);
  return { ...(await releases.listReleases(ctx.db, repository, project, limit, offset)), limit, offset };
}

/** The release `ref` names (tag or branch alias, number, sha prefix; DESIGN.md §3). 404 when none, 409 when ambiguous. */
export async function getRelease(ctx: ReleaseReadContext, p: ProjectParams, ref: string): Promise<Release> {
  const { repository, project } = projectOf(p);
  return releases.resolveRelease(ctx.db, repository, project, ref);
}

/** The release's manifests, read back from its image in the release store (verified by digest). */
export async function getReleaseManifests(ctx: ReleaseReadContext, p: ProjectParams, ref: string) {
  return releaseManifests(ctx.store, await getRelease(ctx, p, ref));
}

/** A page of every repository's projects with their latest release, by repository and project. */
export async function listProjects(ctx: Pick<ReleaseReadContext, 'db'>, limit: number, offset: number): Promise<List<ProjectSummary>> {
  return { ...(await releases.listProjects(ctx.db, limit, offset)), limit, offset };
}
