/** `forge rollback ENV PROJECT`: deploy the release active before the current one, and pin (DESIGN.md §8). */
import type { Command } from 'commander';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { type DeployOpts, deploymentOptions, sendDeployment } from './deploy.js';

export function registerRollback(program: Command) {
  deploymentOptions(
    program
      .command('rollback')
      .description('roll back to the release active before the current one; pins against auto-deploy until `forge unpin`'),
  )
    .argument('<env>')
    .argument('<project>')
    .option('--reason <text>', 'why, recorded with the deployment')
    .action(
      run(async (env: string, project: string, opts: DeployOpts) => {
        await sendDeployment(opts, '/deployments/rollback', {
          repository: resolveRepository(opts.repository),
          project,
          environment: env,
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
      }),
    );
}
