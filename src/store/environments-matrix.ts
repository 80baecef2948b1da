/**
 * The environments matrix's query (GET /environments, DESIGN.md §10): what runs in which
 * environment, per project, with the release's sha and aliases and whether the slot is pinned,
 * in one round trip however many projects run.
 */
import type { EnvironmentDeployment } from '../contract/index.js';
import type { Db } from './db.js';

type Row = EnvironmentDeployment & { environment: string; alias_rows: EnvironmentDeployment['aliases'] | string };

/**
 * The active deployment of every project in `environments`, optionally of one repository
 * and/or project, ordered by repository, project and environment. Aliases as on the release:
 * its number first, then tags and branch aliases in the order they were given.
 */
export async function activeInEnvironments(
  db: Db,
  filter: { environments: string[]; repository?: string; project?: string },
): Promise<(EnvironmentDeployment & { environment: string })[]> {
  if (!filter.environments.length) return [];
  const rows = await db.query<Row>(
    `select d.environment, d.repository, d.project, d.release_id, r.release_number, r.commit_sha, d.id as deployment_id, d.kind,
       d.deployed_by, d.deployed_at, d.gitops_commit_sha,
       exists (select 1 from pins p where p.environment = d.environment and p.repository = d.repository and p.project = d.project) as pinned,
       coalesce((select json_agg(json_build_object('alias', a.alias, 'alias_type', a.alias_type) order by a.created_at, a.alias)
                 from release_aliases a where a.release_id = r.id), '[]') as alias_rows
     from deployments d join releases r on r.id = d.release_id
     where d.status = 'active' and d.environment = any($1::text[])
       and ($2::text is null or d.repository = $2) and ($3::text is null or d.project = $3)
     order by d.repository, d.project, d.environment`,
    [filter.environments, filter.repository ?? null, filter.project ?? null],
  );
  return rows.map(({ alias_rows, ...d }) => ({
    ...d,
    gitops_commit_sha: d.gitops_commit_sha ?? null,
    aliases: [
      { alias: String(d.release_number), alias_type: 'numeric' },
      ...(typeof alias_rows === 'string' ? JSON.parse(alias_rows) : alias_rows),
    ],
  }));
}
