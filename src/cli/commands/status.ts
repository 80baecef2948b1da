/** `forge status [PROJECT]`: what runs where — projects × environments with release numbers and aliases. */
import type { Command } from 'commander';
import type { Environment, EnvironmentDeployment, List, OrphanedSlots } from '../../contract/index.js';
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
        const q = new URLSearchParams({ limit: '200' });
        if (repository) q.set('repository', repository);
        if (project) q.set('project', project);
        const api = client(opts);
        const envs = (await api.request<List<Environment>>('GET', `/environments?${q}`)).items;
        const projects = [...new Set(envs.flatMap((e) => e.deployments.map((d) => `${d.repository}/${d.project}`)))].sort();
        // Nothing deployed: a named project or repository that does not exist is an error, not an empty table.
        if (!projects.length && (project || opts.repository)) await assertKnown(api, repository, project);
        const rows = projects.map((p) => ({
          project: p,
          environments: Object.fromEntries(
            envs.map((e) => {
              const r = e.deployments.find((d) => `${d.repository}/${d.project}` === p);
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
        const orphans = (await api.request<OrphanedSlots>('GET', '/environments/orphans')).items.filter(
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
                      const r = e.deployments.find((d) => `${d.repository}/${d.project}` === p);
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
