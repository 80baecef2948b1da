/** `forge deploy ENV PROJECT REF [--dry-run]`: deploy a release, or ask the policy why it may not go there (DESIGN.md §7, §14). */
import type { Command } from 'commander';
import type { Deployment, PolicyResult } from '../../contract/index.js';
import type { PolicyCheck } from '../../core/policy/index.js';
import { ApiError, client, clientOptions } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';

export type DeployOpts = { server?: string; token?: string; repository?: string; output: string; reason?: string };

/** Options every deployment command shares. */
export const deploymentOptions = (cmd: Command) =>
  clientOptions(cmd)
    .option('--repository <owner/name>', 'repository (default: the origin remote of the current checkout)')
    .option('-o, --output <format>', 'table, json or yaml', 'table');

/** A check's required or actual value in a table cell: lists joined, objects (a freeze window, a gate) as compact JSON. */
const show = (v: unknown): string =>
  Array.isArray(v) ? v.map(show).join(', ') || '-' : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);

export function checksTable(checks: PolicyCheck[]): string {
  return table(
    ['check', 'ok', 'required', 'actual', 'why'],
    checks.map((c) => [c.name, c.ok ? 'yes' : 'NO', show(c.required), show(c.actual), c.reason ?? '']),
  );
}

export function deploymentTable(d: Deployment): string {
  return table(
    ['field', 'value'],
    [
      ['deployment', d.id],
      ['status', d.status + (d.error ? `: ${d.error}` : '')],
      ['kind', d.kind],
      ['where', `${d.repository}/${d.project} in ${d.environment}`],
      [
        'release',
        d.release ? `${d.release_number} (${[d.release.commit_sha.slice(0, 12), ...d.release.aliases].join(', ')})` : d.release_number,
      ],
      ['previous release', d.previous_release_number],
      ['deployed', `${d.deployed_at} by ${d.deployed_by}`],
      ['approved by', d.approved_by.join(', ') || '-'],
      ...(d.break_glass_id ? [['break-glass', `${d.break_glass_id} (forge break-glass show ${d.break_glass_id})`]] : []),
      ['gitops commit', d.gitops_commit_sha],
    ],
  );
}

/** Runs a deployment request; a policy refusal also prints its checks. */
export async function sendDeployment(opts: DeployOpts, path: string, body: Record<string, unknown>): Promise<void> {
  const format = parseFormat(opts.output);
  try {
    const d = await client(opts).request<Deployment>('POST', path, body);
    print(d, format, () => deploymentTable(d));
  } catch (err) {
    if (err instanceof ApiError && err.code === 'policy_denied' && Array.isArray((err.details as { checks?: unknown })?.checks)) {
      process.stderr.write(`${checksTable((err.details as { checks: PolicyCheck[] }).checks)}\n`);
    }
    throw err;
  }
}

export function registerDeploy(program: Command) {
  deploymentOptions(program.command('deploy').description('deploy a release (tag or branch alias, number, or sha) to an environment'))
    .argument('<env>')
    .argument('<project>')
    .argument('<ref>')
    .option('--dry-run', 'only evaluate the policy: print every check, deploy nothing (exit 1 when refused)')
    .option('--reason <text>', 'why, recorded with the deployment')
    .action(
      run(async (env: string, project: string, ref: string, opts: DeployOpts & { dryRun?: boolean }) => {
        const body = {
          repository: resolveRepository(opts.repository),
          project,
          environment: env,
          release: ref,
          ...(opts.reason ? { reason: opts.reason } : {}),
        };
        if (opts.dryRun) {
          const format = parseFormat(opts.output);
          const answer = await client(opts).request<PolicyResult>('POST', '/policy-checks', body);
          // The release the reference resolved to, named as the deployment would name it (issue #12 item 7).
          const named = `release ${answer.release.release_number} (${[answer.release.commit_sha.slice(0, 12), ...answer.release.aliases].join(', ')})`;
          print(
            answer,
            format,
            () =>
              `${checksTable(answer.checks)}\n${answer.allowed ? 'allowed' : 'refused'}: "${ref}" is ${named} of ${project}; it ${answer.allowed ? 'may' : 'may not'} be deployed to ${env}`,
          );
          if (!answer.allowed) process.exitCode = 1;
          return;
        }
        await sendDeployment(opts, '/deployments', body);
      }),
    );
}
