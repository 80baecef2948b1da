/** `forge approvals list|context|revoke`: the approvals queue, what an approval approves (issue #16), and taking one back. */
import type { Command } from 'commander';
import type { Approval, ApprovalContext, List } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table, UsageError } from '../output.js';
import { hintNextPage, type PageOpts, pageOptions, pageQuery } from '../paging.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { approvalTable, contextText } from './approve.js';

type Opts = { server?: string; token?: string; output: string };

export function registerApprovals(program: Command) {
  const approvals = program.command('approvals').description('approvals of releases for environments');

  pageOptions(clientOptions(approvals.command('list').description('the approvals queue, newest first')))
    .option('--environment <env>', 'only this environment')
    .option('--status <status>', 'active, expired or revoked')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: Opts & { environment?: string; status?: string } & PageOpts) => {
        const format = parseFormat(opts.output);
        if (opts.status && !['active', 'expired', 'revoked'].includes(opts.status))
          throw new UsageError(`invalid --status "${opts.status}": expected active, expired or revoked`);
        const q = pageQuery(opts);
        if (opts.environment) q.set('environment', opts.environment);
        if (opts.status) q.set('status', opts.status);
        const page = await client(opts).request<List<Approval>>('GET', `/approvals?${q}`);
        print(
          page,
          format,
          () =>
            table(
              ['id', 'status', 'environment', 'release', 'branches', 'approver', 'expires', 'justification'],
              page.items.map((a) => [
                a.id,
                a.status,
                a.environment,
                `${a.repository}/${a.project} #${a.release_number}${a.context?.aliases.length ? ` (${a.context.aliases.filter((x) => x !== String(a.release_number)).join(', ')})` : ''}`,
                a.context?.branches.join(', '),
                a.approver,
                a.expires_at,
                a.justification,
              ]),
            ) + `\n(${page.items.length} of ${page.total})`,
        );
        hintNextPage(page, format);
      }),
    );

  clientOptions(approvals.command('context').description('what approving a release for an environment would approve, before approving'))
    .argument('<env>')
    .argument('<project>')
    .argument('<ref>', 'the release: tag, number or sha prefix')
    .option('--repository <owner/name>', 'repository (default: the origin remote of the current checkout)')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (env: string, project: string, ref: string, opts: Opts & { repository?: string }) => {
        const format = parseFormat(opts.output);
        const q = new URLSearchParams({ repository: resolveRepository(opts.repository), project, release: ref, environment: env });
        const c = await client(opts).request<ApprovalContext>('GET', `/approval-context?${q}`);
        print(
          c,
          format,
          () =>
            `${contextText(c, env)}\napprove exactly this release with: forge approve ${env} ${project} ${ref} --digest ${c.digest} -j "…"`,
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
