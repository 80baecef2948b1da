import type { Command } from 'commander';
import { client, clientOptions } from '../client.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { releasePath } from './release.js';

export function registerDiff(program: Command) {
  clientOptions(program.command('diff').description('unified diff of the manifests of two releases of a project'))
    .argument('<project>')
    .argument('<ref-a>')
    .argument('<ref-b>')
    .option('--repository <owner/name>', 'repository (default: the origin remote of the current checkout)')
    .action(
      run(async (project: string, a: string, b: string, opts: { server?: string; token?: string; repository?: string }) => {
        const repo = resolveRepository(opts.repository);
        const text = await client(opts).request<string>(
          'GET',
          `${releasePath(repo, project, a)}/diff/${encodeURIComponent(b)}`,
          undefined,
          'text/plain',
        );
        process.stdout.write(text);
      }),
    );
}
