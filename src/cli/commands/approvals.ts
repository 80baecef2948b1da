/** `forge approvals list|revoke`: the approvals queue, and taking an approval back. */
import type { Command } from 'commander';
import type { Approval } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table, UsageError } from '../output.js';
import { run } from '../run.js';
import { approvalTable } from './approve.js';

type Opts = { server?: string; token?: string; output: string };

export function registerApprovals(program: Command) {
  const approvals = program.command('approvals').description('approvals of releases for environments');

  clientOptions(approvals.command('list').description('the approvals queue, newest first'))
    .option('--environment <env>', 'only this environment')
    .option('--status <status>', 'active, expired or revoked')
    .option('--limit <n>', 'how many (1-200)', '20')
    .option('--offset <n>', 'skip this many', '0')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: Opts & { environment?: string; status?: string; limit: string; offset: string }) => {
        const format = parseFormat(opts.output);
        if (opts.status && !['active', 'expired', 'revoked'].includes(opts.status))
          throw new UsageError(`invalid --status "${opts.status}": expected active, expired or revoked`);
        const q = new URLSearchParams({ limit: String(Number(opts.limit)), offset: String(Number(opts.offset)) });
        if (opts.environment) q.set('environment', opts.environment);
        if (opts.status) q.set('status', opts.status);
        const page = await client(opts).request<{ items: Approval[]; total: number }>('GET', `/approvals?${q}`);
        print(
          page,
          format,
          () =>
            table(
              ['id', 'status', 'environment', 'release', 'approver', 'expires', 'justification'],
              page.items.map((a) => [
                a.id,
                a.status,
                a.environment,
                `${a.repository}/${a.project} #${a.release_number}`,
                a.approver,
                a.expires_at,
                a.justification,
              ]),
            ) + `\n(${page.items.length} of ${page.total})`,
        );
      }),
    );

  clientOptions(approvals.command('revoke').description('revoke an active approval'))
    .argument('<id>')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (id: string, opts: Opts) => {
        const format = parseFormat(opts.output);
        const a = await client(opts).request<Approval>('POST', `/approvals/${encodeURIComponent(id)}/revoke`);
        print(a, format, () => approvalTable(a));
      }),
    );
}
