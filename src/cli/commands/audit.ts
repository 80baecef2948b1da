/** `forge audit list|verify`: read the audit log and check its hash chain (DESIGN.md §11). */
import type { Command } from 'commander';
import type { AuditChainCheck, AuditEntry, List } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { hintNextPage, type PageOpts, pageOptions, pageQuery } from '../paging.js';
import { run } from '../run.js';

type Opts = { server?: string; token?: string; output: string };

export function registerAudit(program: Command) {
  const audit = program.command('audit').description('the audit log');

  pageOptions(clientOptions(audit.command('list').description('audit entries, newest first')))
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: Opts & PageOpts) => {
        const format = parseFormat(opts.output);
        const page = await client(opts).request<List<AuditEntry>>('GET', `/audit?${pageQuery(opts)}`);
        print(
          page,
          format,
          () =>
            table(
              ['seq', 'at', 'actor', 'action', 'subject'],
              page.items.map((e) => [e.seq, e.at, e.actor, e.action, e.subject]),
            ) + `\n(${page.items.length} of ${page.total})`,
        );
        hintNextPage(page, format);
      }),
    );

  clientOptions(
    audit
      .command('verify')
      .description(
        'check the hash chain, and the chain against the heads anchored in GitOps commits (Forge-Audit-Head); exits 1 naming the first edited, removed or reordered entry',
      ),
  )
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: Opts) => {
        const format = parseFormat(opts.output);
        const check = await client(opts).request<AuditChainCheck>('GET', '/audit/verify');
        const anchors = check.anchors
          ? check.anchors.newest
            ? `; ${check.anchors.checked} anchors in GitOps commits, newest entry ${check.anchors.newest.seq} in ${check.anchors.newest.commit.slice(0, 12)}`
            : '; no GitOps commit anchors it yet'
          : '';
        print(check, format, () =>
          check.ok
            ? `ok: ${check.checked} entries, chain intact${anchors}`
            : `broken at entry ${check.first_broken}: ${check.reason} (${check.checked} entries before it are intact)`,
        );
        if (!check.ok) process.exitCode = 1;
      }),
    );
}
