/**
 * The release read models (DESIGN.md §3, §10): a project's releases, one release by any
 * reference, its rendered manifests, and every project
 * with its latest release.
 */
import type { List, Paging, ProjectParams, ProjectSummary, Release } from '../contract/index.js';
import { windowOf } from '../core/cursor.js';
import { ForgeError } from '../core/errors.js';
import { parseIdentity } from '../core/identity.js';
import type { ReleaseStore } from '../registry/index.js';
import type { Db } from '../store/db.js';
import * as releases from '../store/releases.js';
import { etagOf, type ReleaseRepresentation, releaseCache, representationOf } from './release-cache.js';
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

/**
 * A page of a project's releases, newest first: `limit` after `cursor` (a release number), else
 * after `offset`; `next` the cursor of the page after. 400 for a cursor this list did not give.
 */
export async function listReleases(ctx: ReleaseReadContext, p: ProjectParams, paging: Paging): Promise<List<Release>> {
  const { repository, project } = projectOf(p);
  const window = windowOf(paging, ['integer']);
  return { ...(await releases.listReleases(ctx.db, repository, project, window)), limit: window.limit, offset: window.offset };
}

/**
 * The representation (JSON text, as GET /releases/{owner}/{name}/{project}/{ref} answers it) and
 * strong ETag of the release `ref` names (tag or branch alias, number, sha prefix; DESIGN.md §3,
 * spec release-deployment.md "Releases"), from the resolution cache when it can answer
 * (services/release-cache.ts), else from the database. 404 not_found when none, 409
 * ambiguous_reference when several. For GET reads only: decisions read the database.
 */
export async function readRelease(ctx: ReleaseReadContext, p: ProjectParams, ref: string): Promise<ReleaseRepresentation> {
  const { repository, project } = projectOf(p);
  // A 404 from memory is confirmed by the database: a release or alias another replica has
  // just committed is found even before its notification arrives here (attack review).
  const cached = await releaseCache(ctx.db)
    .resolve(repository, project, ref)
    .catch((err: unknown) => {
      if (err instanceof ForgeError && err.code === 'not_found') return undefined;
      throw err;
    });
  if (cached) return { body: cached.body, etag: etagOf(cached.body) };
  return representationOf(await releases.resolveRelease(ctx.db, repository, project, ref));
}

/** The release `ref` names, as an object (a GET read: from the resolution cache when it can answer). 404 when none, 409 when ambiguous. */
export async function getRelease(ctx: ReleaseReadContext, p: ProjectParams, ref: string): Promise<Release> {
  return JSON.parse((await readRelease(ctx, p, ref)).body) as Release;
}

/**
 * The release's manifests, read back from its image in the release store (verified by digest),
 * and their strong ETag: the image is immutable, so the ETag is known (from its digest and the
 * format asked for) before the image is read, and a matching If-None-Match needs no pull.
 */
export async function getReleaseManifests(ctx: ReleaseReadContext, p: ProjectParams, ref: string, format: 'yaml' | 'json') {
  const release = await getRelease(ctx, p, ref);
  return { etag: etagOf(`${release.oci_digest} ${format}`), read: () => releaseManifests(ctx.store, release) };
}

/**
 * A page of every repository's projects with their latest release, by repository and project:
 * `limit` after `cursor` (a repository and project, as GET /overview's), else after `offset`.
 * 400 for a cursor this list did not give.
 */
export async function listProjects(ctx: Pick<ReleaseReadContext, 'db'>, paging: Paging): Promise<List<ProjectSummary>> {
  const window = windowOf(paging, ['string', 'string']);
  return { ...(await releases.listProjects(ctx.db, window)), limit: window.limit, offset: window.offset };
}
