/**
 * `forge status [PROJECT]`: what runs where — projects × environments with release numbers and
 * aliases. Reads GET /overview (issue #18), 500 projects a request, following its cursor.
 */
import type { Command } from 'commander';
import type { EnvironmentDeployment, OrphanedSlots, OverviewPage } from '../../contract/index.js';
import { client } from '../client.js';
import { assertKnown } from '../known.js';
import { parseFormat, print, table, UsageError } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { type DeployOpts, deploymentOptions } from './deploy.js';

/**
 * Whether Argo CD runs something else than the database records (issue 15): its synced revision
 * is not the active deployment's commit nor a later one with the same pointer.
 */
const drifted = (r: EnvironmentDeployment) =>
  !!r.cluster?.revision && (r.cluster.deployment_id !== r.deployment_id || !r.cluster.revision_is_deployment);

/** `12 (v1.2.3, main-12)`, with `pinned` when auto-deploys are held off, and Argo CD's sync/health (issue 15). */
const cell = (r: EnvironmentDeployment) => {
  const aliases = r.aliases.filter((a) => a.alias_type !== 'numeric').map((a) => a.alias);
  const cluster = r.cluster ? ` ${r.cluster.sync_status ?? '?'}/${r.cluster.health_status ?? '?'}` : '';
  const drift = drifted(r) ? ` DRIFT: Argo CD at ${r.cluster!.revision!.slice(0, 12)}, Forge at ${r.gitops_commit_sha?.slice(0, 12)}` : '';
  return `${r.release_number}${aliases.length ? ` (${aliases.join(', ')})` : ''}${r.pinned ? ' pinned' : ''}${cluster}${drift}`;
};

export function registerStatus(program: Command) {
  deploymentOptions(
    program.command('status').description('which release runs in which environment, per project (every repository outside a checkout)'),
  )
    .argument('[project]')
    .action(
      run(async (project: string | undefined, opts: DeployOpts) => {
        const format = parseFormat(opts.output);
        let repository: string | undefined;
        try {
          repository = resolveRepository(opts.repository);
        } catch (err) {
          if (opts.repository || !(err instanceof UsageError) || project) throw err;
        }
        const api = client(opts);
        // Asked at once beside the overview's pages: the server reads git for it while the database answers those.
        const orphanSlots = api.request<OrphanedSlots>('GET', '/environments/orphans');
        orphanSlots.catch(() => {}); // awaited below; an early failure is not unhandled meanwhile
        const pages: OverviewPage[] = [];
        let cursor: string | null = null;
        do {
          const q = new URLSearchParams({ limit: '500' });
          if (repository) q.set('repository', repository);
          if (project) q.set('project', project);
          if (cursor) q.set('cursor', cursor);
          const page: OverviewPage = await api.request<OverviewPage>('GET', `/overview?${q}`);
          pages.push(page);
          cursor = page.next;
        } while (cursor);
        const envs = pages[0].environments;
        // The projects that run somewhere, by repository and project.
        const running = new Map<string, Map<string, EnvironmentDeployment>>();
        for (const row of pages.flatMap((p) => p.items)) {
          const cells = new Map(row.environments.filter((c) => c.running).map((c) => [c.environment, c.running!]));
          if (cells.size) running.set(`${row.repository}/${row.project}`, cells);
        }
        const projects = [...running.keys()].sort();
        // Nothing deployed: a named project or repository that does not exist is an error, not an empty table.
        if (!projects.length && (project || opts.repository)) await assertKnown(api, repository, project);
        const at = (p: string, env: string) => running.get(p)?.get(env);
        const rows = projects.map((p) => ({
          project: p,
          environments: Object.fromEntries(
            envs.map((e) => {
              const r = at(p, e.name);
              return [
                e.name,
                r
                  ? {
                      release_number: r.release_number,
                      aliases: r.aliases.filter((a) => a.alias_type !== 'numeric').map((a) => a.alias),
                      pinned: r.pinned,
                      cluster: r.cluster ?? null,
                      drift: drifted(r),
                    }
                  : null,
              ];
            }),
          ),
        }));
        // Environments the platform config no longer has, with what still runs there (issue #12 item 4).
        const orphans = (await orphanSlots).items.filter(
          (o) => (!repository || o.repository === repository.toLowerCase()) && (!project || o.project === project),
        );
        const orphanText = orphans.length
          ? `orphaned (not in the platform config; "forge env rename OLD NEW" or "forge env retire ENV"):\n${table(
              ['environment', 'project', 'release', 'pointer in git'],
              orphans.map((o) => [o.environment, `${o.repository}/${o.project}`, o.release_number, o.in_git ? o.path : 'no']),
            )}`
          : '';
        if (orphanText && format !== 'table') process.stderr.write(`warning: ${orphanText}\n`);
        print(rows, format, () =>
          [
            rows.length
              ? table(
                  ['project', ...envs.map((e) => e.name)],
                  projects.map((p) => [
                    p,
                    ...envs.map((e) => {
                      const r = at(p, e.name);
                      return r ? cell(r) : '-';
                    }),
                  ]),
                )
              : 'nothing is deployed yet',
            orphanText,
          ]
            .filter(Boolean)
            .join('\n\n'),
        );
      }),
    );
}
