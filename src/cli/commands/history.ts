/** `forge history ENV PROJECT`: every deployment of a project to an environment, newest first. */
import type { Command } from 'commander';
import type { Deployment, List } from '../../contract/index.js';
import { client } from '../client.js';
import { assertKnown } from '../known.js';
import { parseFormat, print, table } from '../output.js';
import { hintNextPage, type PageOpts, pageOptions, pageQuery } from '../paging.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { type DeployOpts, deploymentOptions } from './deploy.js';

export function registerHistory(program: Command) {
  pageOptions(
    deploymentOptions(program.command('history').description("an environment's deployments of a project, newest first"))
      .argument('<env>')
      .argument('<project>'),
  ).action(
    run(async (env: string, project: string, opts: DeployOpts & PageOpts) => {
      const format = parseFormat(opts.output);
      const repo = resolveRepository(opts.repository);
      const api = client(opts);
      const page = await api.request<List<Deployment>>(
        'GET',
        `/deployments/${encodeURIComponent(env)}/${repo}/${encodeURIComponent(project)}/history?${pageQuery(opts)}`,
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
      hintNextPage(page, format);
    }),
  );
}
