/**
 * `forge env rename OLD NEW` / `forge env retire ENV` / `forge env orphans`: environments renamed
 * or removed in the platform config while deployments exist there (issue #12 item 4).
 */
import type { Command } from 'commander';
import type { EnvironmentChange, OrphanedSlots } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { run } from '../run.js';

interface EnvOpts {
  server?: string;
  token?: string;
  output: string;
  reason?: string;
}

const output = (cmd: Command) => clientOptions(cmd).option('-o, --output <format>', 'table, json or yaml', 'table');

function describe(c: EnvironmentChange): string {
  if (!c.changed)
    return c.action === 'rename'
      ? `nothing to move: "${c.environment}" has no pointers or deployment records left (already renamed to "${c.new_name}"?)`
      : `nothing to retire: "${c.environment}" has no pointers or active deployments left`;
  const what =
    c.action === 'rename'
      ? `renamed environment "${c.environment}" to "${c.new_name}": ${c.pointers.length} pointer file(s) moved, ${c.deployments} deployment record(s) moved`
      : `retired environment "${c.environment}": ${c.pointers.length} pointer file(s) deleted, ${c.deployments} deployment(s) ended retired`;
  const commit = c.gitops_commit_sha ? `\nGitOps commit ${c.gitops_commit_sha}` : '';
  const files = c.pointers.length
    ? `\n${table(
        ['from', 'to'],
        c.pointers.map((p) => [p.from, p.to ?? '(deleted)']),
      )}`
    : '';
  return `${what}${commit}${files}`;
}

export function registerEnv(program: Command) {
  const env = program
    .command('env')
    .description('environments renamed or removed in the platform config while deployments exist there (operator)');

  output(
    env
      .command('rename')
      .description(
        'after renaming OLD to NEW in the platform config (and restarting the servers): move every pointer of OLD to NEW in one GitOps commit, and its deployment history, pins and approvals with them (operator; running it again changes nothing)',
      ),
  )
    .argument('<old>', 'the name the platform config no longer has')
    .argument('<new>', 'the name it has now')
    .option('--reason <text>', 'why (kept in the commit message and the audit log)')
    .action(
      run(async (from: string, to: string, opts: EnvOpts) => {
        const format = parseFormat(opts.output);
        const change = await client(opts).request<EnvironmentChange>('POST', `/environments/${encodeURIComponent(from)}/rename`, {
          new_name: to,
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
        print(change, format, () => describe(change));
      }),
    );

  output(
    env
      .command('retire')
      .description(
        'after removing ENV from the platform config: delete its pointers in one GitOps commit (Argo CD prunes what ran there); its active deployments end "retired" (operator; running it again changes nothing)',
      ),
  )
    .argument('<env>', 'the environment the platform config no longer has')
    .option('--reason <text>', 'why (kept in the commit message and the audit log)')
    .action(
      run(async (name: string, opts: EnvOpts) => {
        const format = parseFormat(opts.output);
        const change = await client(opts).request<EnvironmentChange>(
          'POST',
          `/environments/${encodeURIComponent(name)}/retire`,
          opts.reason ? { reason: opts.reason } : {},
        );
        print(change, format, () => describe(change));
      }),
    );

  output(env.command('orphans').description('pointers and active deployments of environments the platform config no longer has')).action(
    run(async (opts: EnvOpts) => {
      const format = parseFormat(opts.output);
      const { items } = await client(opts).request<OrphanedSlots>('GET', '/environments/orphans');
      print(items, format, () =>
        items.length
          ? table(
              ['environment', 'project', 'release', 'pointer', 'in git'],
              items.map((o) => [o.environment, `${o.repository}/${o.project}`, o.release_number, o.path, o.in_git ? 'yes' : 'no']),
            )
          : 'no orphaned environments',
      );
    }),
  );
}
