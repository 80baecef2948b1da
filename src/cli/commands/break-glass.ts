/**
 * `forge break-glass request|approve|show|list` (issue #16): ask for one release to pass the freeze
 * of one environment, with a reason; a second person with approver:<env> grants it with a
 * justification (never the requester); the grant expires (4 h by default).
 */
import type { Command } from 'commander';
import type { BreakGlass, List } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table, UsageError } from '../output.js';
import { hintNextPage, type PageOpts, pageOptions, pageQuery } from '../paging.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { type DeployOpts, deploymentOptions } from './deploy.js';

type Opts = { server?: string; token?: string; output: string };

export function breakGlassTable(b: BreakGlass): string {
  return table(
    ['field', 'value'],
    [
      ['break-glass', b.id],
      ['status', b.status],
      ['release', `${b.repository}/${b.project} release ${b.release_number} (${b.release_digest})`],
      ['environment', b.environment],
      ['asked', `${b.requested_at} by ${b.requested_by}: ${b.reason}`],
      ...(b.granted_by
        ? [
            ['granted', `${b.granted_at} by ${b.granted_by}: ${b.justification}`],
            ['expires', b.expires_at],
          ]
        : []),
    ],
  );
}

export function registerBreakGlass(program: Command) {
  const bg = program.command('break-glass').description('pass a freeze window with one release, granted by a second person');

  deploymentOptions(bg.command('request').description('ask for a release to pass the freeze of an environment (deployer of it)'))
    .argument('<env>')
    .argument('<project>')
    .argument('<ref>', 'the release: tag, number or sha prefix')
    .requiredOption('--reason <text>', 'why this release must pass the freeze')
    .action(
      run(async (env: string, project: string, ref: string, opts: DeployOpts & { reason: string }) => {
        const format = parseFormat(opts.output);
        const b = await client(opts).request<BreakGlass>('POST', '/break-glass', {
          repository: resolveRepository(opts.repository),
          project,
          environment: env,
          release: ref,
          reason: opts.reason,
        });
        print(
          b,
          format,
          () => `${breakGlassTable(b)}\nask an approver of ${b.environment} (not you) to run: forge break-glass approve ${b.id} -j "…"`,
        );
      }),
    );

  clientOptions(bg.command('approve').description('grant a break-glass request (approver of its environment, not the requester)'))
    .argument('<id>')
    .requiredOption('-j, --justification <text>', 'why the freeze may be broken for this release')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (id: string, opts: Opts & { justification: string }) => {
        const format = parseFormat(opts.output);
        const b = await client(opts).request<BreakGlass>('POST', `/break-glass/${encodeURIComponent(id)}/approve`, {
          justification: opts.justification,
        });
        print(b, format, () => breakGlassTable(b));
      }),
    );

  clientOptions(bg.command('show').description('one break-glass: its release, reason, requester, grant and expiry'))
    .argument('<id>', 'the break-glass id (a deployment made under it names it as break_glass_id)')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (id: string, opts: Opts) => {
        const format = parseFormat(opts.output);
        const b = await client(opts).request<BreakGlass>('GET', `/break-glass/${encodeURIComponent(id)}`);
        print(b, format, () => breakGlassTable(b));
      }),
    );

  pageOptions(clientOptions(bg.command('list').description('break-glass requests and grants, newest first')))
    .option('--environment <env>', 'only this environment')
    .option('--status <status>', 'requested, granted or expired')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: Opts & { environment?: string; status?: string } & PageOpts) => {
        const format = parseFormat(opts.output);
        if (opts.status && !['requested', 'granted', 'expired'].includes(opts.status))
          throw new UsageError(`invalid --status "${opts.status}": expected requested, granted or expired`);
        const q = pageQuery(opts);
        if (opts.environment) q.set('environment', opts.environment);
        if (opts.status) q.set('status', opts.status);
        const page = await client(opts).request<List<BreakGlass>>('GET', `/break-glass?${q}`);
        print(
          page,
          format,
          () =>
            table(
              ['id', 'status', 'environment', 'release', 'asked by', 'reason', 'granted by', 'expires'],
              page.items.map((b) => [
                b.id,
                b.status,
                b.environment,
                `${b.repository}/${b.project} #${b.release_number}`,
                b.requested_by,
                b.reason,
                b.granted_by,
                b.expires_at,
              ]),
            ) + `\n(${page.items.length} of ${page.total})`,
        );
        hintNextPage(page, format);
      }),
    );
}
