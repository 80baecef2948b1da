/** `forge approve ENV PROJECT REF -j TEXT`: approve a release for an environment (DESIGN.md §7). */
import type { Command } from 'commander';
import type { Approval } from '../../contract/index.js';
import { client } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { type DeployOpts, deploymentOptions } from './deploy.js';

export function approvalTable(a: Approval): string {
  return table(
    ['field', 'value'],
    [
      ['approval', a.id],
      ['status', a.status],
      ['release', `${a.repository}/${a.project} release ${a.release_number} (${a.release_digest})`],
      ['environment', a.environment],
      ['approver', a.approver],
      ['justification', a.justification],
      ['approved', a.approved_at],
      ['expires', a.expires_at],
      ...(a.revoked_at ? [['revoked', `${a.revoked_at} by ${a.revoked_by}`]] : []),
    ],
  );
}

export function registerApprove(program: Command) {
  deploymentOptions(program.command('approve').description('approve a release for an environment, with a justification'))
    .argument('<env>')
    .argument('<project>')
    .argument('<ref>')
    .requiredOption('-j, --justification <text>', 'why this release may go to this environment')
    .action(
      run(async (env: string, project: string, ref: string, opts: DeployOpts & { justification: string }) => {
        const format = parseFormat(opts.output);
        const a = await client(opts).request<Approval>('POST', '/approvals', {
          repository: resolveRepository(opts.repository),
          project,
          release: ref,
          environment: env,
          justification: opts.justification,
        });
        print(a, format, () => approvalTable(a));
      }),
    );
}
