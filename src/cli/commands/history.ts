/** `forge history ENV PROJECT`: every deployment of a project to an environment, newest first. */
import type { Command } from 'commander';
import type { Deployment } from '../../contract/index.js';
import { client } from '../client.js';
import { assertKnown } from '../known.js';
import { parseFormat, print, table } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { type DeployOpts, deploymentOptions } from './deploy.js';

export function registerHistory(program: Command) {
  deploymentOptions(program.command('history').description("an environment's deployments of a project, newest first"))
    .argument('<env>')
    .argument('<project>')
    .option('--limit <n>', 'how many (1-200)', '20')
    .option('--offset <n>', 'skip this many', '0')
    .action(
      run(async (env: string, project: string, opts: DeployOpts & { limit: string; offset: string }) => {
        const format = parseFormat(opts.output);
        const repo = resolveRepository(opts.repository);
        const api = client(opts);
        const page = await api.request<{ items: Deployment[]; total: number }>(
          'GET',
          `/deployments/${encodeURIComponent(env)}/${repo}/${encodeURIComponent(project)}/history?limit=${Number(opts.limit)}&offset=${Number(opts.offset)}`,
        );
        if (!page.total) await assertKnown(api, repo, project);
        print(
          page,
          format,
          () =>
            table(
              ['deployed', 'release', 'kind', 'status', 'by', 'commit', 'error'],
              page.items.map((d) => [
                d.deployed_at,
                d.release_number,
                d.kind,
                d.status,
                d.deployed_by,
                d.gitops_commit_sha?.slice(0, 12),
                d.error,
              ]),
            ) + `\n(${page.items.length} of ${page.total})`,
        );
      }),
    );
}
