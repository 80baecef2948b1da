/**
 * `forge approve ENV PROJECT REF -j TEXT [--digest D]`: approve a release for an environment
 * (DESIGN.md §7). The approval keeps, and this prints, what it approves (issue #16); `--digest`
 * makes sure REF still names the release you looked at (`forge approvals context` shows it).
 */
import type { Command } from 'commander';
import type { Approval, ApprovalContext } from '../../contract/index.js';
import { formatSemanticDiff } from '../../core/semantic-diff.js';
import { client } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { type DeployOpts, deploymentOptions } from './deploy.js';

/** What an approval approves (issue #16), as text: the release, trigger, branches, commit, artifacts and the semantic diff. */
export function contextText(c: ApprovalContext, environment: string): string {
  const facts = table(
    ['what is approved', ''],
    [
      ['release', `#${c.release_number}${c.aliases.length ? ` (${c.aliases.join(', ')})` : ''} ${c.digest}`],
      ['trigger', c.triggers.map((t) => [t.type, t.tag ?? t.branch].filter(Boolean).join(' ')).join('; ') || '-'],
      ['branches', c.branches.join(', ') || '-'],
      ['commit', `${c.commit.sha} by ${c.commit.author ?? 'unknown'}`],
      ['message', (c.commit.message ?? '').split('\n')[0]],
      ...c.artifacts.map((a) => ['artifact', `${a.name} ${a.digest ?? '(no digest)'}`]),
      ['running now', c.running ? `#${c.running.release_number} ${c.running.digest}` : `nothing runs in ${environment}`],
    ],
  );
  const diff = c.diff
    ? `changes from #${c.diff.from.release_number} (running) to #${c.diff.to.release_number}:\n${formatSemanticDiff(c.diff, process.stdout.columns ?? 120)}`
    : c.diff_unavailable
      ? `the diff could not be computed: ${c.diff_unavailable}\n`
      : '';
  return `${facts}\n${diff}`.trimEnd();
}

export function approvalTable(a: Approval): string {
  const t = table(
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
  return a.context ? `${t}\n\n${contextText(a.context, a.environment)}` : t;
}

export function registerApprove(program: Command) {
  deploymentOptions(program.command('approve').description('approve a release for an environment, with a justification'))
    .argument('<env>')
    .argument('<project>')
    .argument('<ref>')
    .requiredOption('-j, --justification <text>', 'why this release may go to this environment')
    .option('--digest <sha256:…>', 'refuse unless REF names the release with this digest (the one you reviewed)')
    .action(
      run(async (env: string, project: string, ref: string, opts: DeployOpts & { justification: string; digest?: string }) => {
        const format = parseFormat(opts.output);
        const a = await client(opts).request<Approval>('POST', '/approvals', {
          repository: resolveRepository(opts.repository),
          project,
          release: ref,
          environment: env,
          justification: opts.justification,
          ...(opts.digest ? { digest: opts.digest } : {}),
        });
        print(a, format, () => approvalTable(a));
      }),
    );
}
