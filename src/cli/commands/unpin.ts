/** `forge unpin ENV PROJECT`: let auto-deploys reach an environment/project again. */
import type { Command } from 'commander';
import type { Pin } from '../../contract/index.js';
import { client } from '../client.js';
import { parseFormat, print } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { type DeployOpts, deploymentOptions } from './deploy.js';

export function registerUnpin(program: Command) {
  deploymentOptions(program.command('unpin').description('remove the pin (set by a rollback or by hand) so auto-deploys resume'))
    .argument('<env>')
    .argument('<project>')
    .action(
      run(async (env: string, project: string, opts: DeployOpts) => {
        const format = parseFormat(opts.output);
        const repo = resolveRepository(opts.repository);
        const pin = await client(opts).request<Pin>('DELETE', `/pins/${encodeURIComponent(env)}/${repo}/${encodeURIComponent(project)}`);
        print(
          pin,
          format,
          () =>
            `unpinned ${pin.repository}/${pin.project} in ${pin.environment} (was pinned by ${pin.pinned_by}${pin.reason ? `: ${pin.reason}` : ''})`,
        );
      }),
    );
}
