/**
 * `forge train create|show|list|deploy|rollback|diff|approve|check`: release trains (issue #17),
 * several projects' releases deployed together in one GitOps commit.
 */
import type { Command } from 'commander';
import type { List, Train, TrainApprovals, TrainDeployment, TrainDiff, TrainPolicyResult } from '../../contract/index.js';
import { formatSemanticDiff } from '../../core/semantic-diff.js';
import { parseMemberArgument } from '../../core/train.js';
import { ApiError, client, clientOptions } from '../client.js';
import { parseFormat, print, table, UsageError } from '../output.js';
import { hintNextPage, type PageOpts, pageOptions, pageQuery } from '../paging.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { checksTable } from './deploy.js';

interface TrainOpts {
  server?: string;
  token?: string;
  output: string;
  repository?: string;
  reason?: string;
  limit?: string;
  offset?: string;
  cursor?: string;
  environment?: string;
  justification?: string;
}

const output = (cmd: Command) => clientOptions(cmd).option('-o, --output <format>', 'table, json or yaml', 'table');
const path = (train: string, rest = '') => `/trains/${encodeURIComponent(train)}${rest}`;

function trainTable(t: Train): string {
  return `train ${t.name} (${t.id}), created ${t.created_at} by ${t.created_by}\n${table(
    ['repository', 'project', 'release', 'commit', 'digest'],
    t.members.map((m) => [m.repository, m.project, m.release_number, m.commit_sha.slice(0, 12), m.digest]),
  )}`;
}

function trainDeploymentTable(d: TrainDeployment): string {
  const what = d.kind === 'rollback' ? `rollback of train ${d.train.name} in` : `deployment of train ${d.train.name} to`;
  const status = d.kind === 'rollback' && d.status === 'deployed' ? 'rolled back' : d.status;
  const head = `${what} ${d.environment}: ${status}${d.error ? ` (${d.error})` : ''}`;
  return `${head}\ntrain deployment ${d.id}, ${d.deployed_at} by ${d.deployed_by}\nGitOps commit ${d.gitops_commit_sha ?? '-'}\n${table(
    ['repository', 'project', 'release', 'previous', 'status', 'deployment'],
    d.members.map((m) => [m.repository, m.project, m.release_number, m.previous_release_number, m.status, m.id]),
  )}`;
}

function memberChecks(members: TrainPolicyResult['members']): string {
  return members
    .map((m) => `${m.repository}/${m.project} release ${m.release_number}: ${m.allowed ? 'allowed' : 'REFUSED'}\n${checksTable(m.checks)}`)
    .join('\n\n');
}

/** Sends a train deployment or rollback; a policy refusal also prints every member's checks. */
async function sendTrain(opts: TrainOpts, url: string, body: Record<string, unknown>): Promise<void> {
  const format = parseFormat(opts.output);
  try {
    const d = await client(opts).request<TrainDeployment>('POST', url, body);
    print(d, format, () => trainDeploymentTable(d));
  } catch (err) {
    const members = err instanceof ApiError ? (err.details as { members?: unknown })?.members : undefined;
    if (
      err instanceof ApiError &&
      err.code === 'policy_denied' &&
      Array.isArray(members) &&
      members.every((m) => Array.isArray(m?.checks))
    ) {
      process.stderr.write(`${memberChecks(members as TrainPolicyResult['members'])}\n`);
      // the checks above say what each member's refusal says: the error line says it once
      const refused = (members as TrainPolicyResult['members']).filter((m) => !m.allowed).length;
      throw new ApiError(
        err.status,
        err.code,
        `${err.message.split(': ')[0]}: ${refused} member(s) refused (their checks are above)`,
        err.details,
      );
    }
    throw err;
  }
}

export function registerTrain(program: Command) {
  const train = program
    .command('train')
    .description("release trains: several projects' releases, named once, deployed together in one GitOps commit");

  output(
    train
      .command('create')
      .description(
        'register a train (operator or any deployer role): each member PROJECT=RELEASE (this repository) or OWNER/NAME/PROJECT=RELEASE, resolved now to a release id and digest; a train never changes',
      ),
  )
    .argument('<name>', 'the train\'s name (lower-case letters, digits, ".", "_", "-")')
    .argument('<members...>', 'PROJECT=RELEASE or OWNER/NAME/PROJECT=RELEASE (a tag, release number or sha)')
    .option('--repository <owner/name>', 'repository of PROJECT=RELEASE members (default: the origin remote of the current checkout)')
    .action(
      run(async (name: string, args: string[], opts: TrainOpts) => {
        const format = parseFormat(opts.output);
        let repository: string | undefined;
        const needsRepository = args.some((a) => !a.slice(0, Math.max(0, a.indexOf('='))).includes('/'));
        if (needsRepository) repository = resolveRepository(opts.repository);
        const members = args.map((a) => {
          try {
            return parseMemberArgument(a, repository);
          } catch (err) {
            throw new UsageError((err as Error).message);
          }
        });
        const t = await client(opts).request<Train>('POST', '/trains', { name, members });
        print(t, format, () => trainTable(t));
      }),
    );

  output(train.command('show').description('a train and its members, by name or id'))
    .argument('<train>', 'name or id')
    .action(
      run(async (ref: string, opts: TrainOpts) => {
        const format = parseFormat(opts.output);
        const t = await client(opts).request<Train>('GET', path(ref));
        print(t, format, () => trainTable(t));
      }),
    );

  pageOptions(output(train.command('list').description('every train, newest first'))).action(
    run(async (opts: TrainOpts) => {
      const format = parseFormat(opts.output);
      const page = await client(opts).request<List<Train>>('GET', `/trains?${pageQuery(opts as PageOpts)}`);
      print(page, format, () =>
        [
          table(
            ['name', 'id', 'members', 'created', 'by'],
            page.items.map((t) => [t.name, t.id, t.members.length, t.created_at, t.created_by]),
          ),
          `(${page.items.length} of ${page.total})`,
        ].join('\n'),
      );
      hintNextPage(page, format);
    }),
  );

  pageOptions(
    output(train.command('deployments').description("a train's deployments and rollbacks, newest first")).argument('<train>', 'name or id'),
  )
    .option('--environment <env>', 'only to this environment')
    .action(
      run(async (ref: string, opts: TrainOpts) => {
        const format = parseFormat(opts.output);
        const q = pageQuery(opts as PageOpts);
        if (opts.environment) q.set('environment', opts.environment);
        const page = await client(opts).request<List<TrainDeployment>>('GET', path(ref, `/deployments?${q}`));
        print(page, format, () =>
          [
            table(
              ['id', 'environment', 'kind', 'status', 'commit', 'when', 'by'],
              page.items.map((d) => [
                d.id,
                d.environment,
                d.kind,
                d.status,
                d.gitops_commit_sha?.slice(0, 12),
                d.deployed_at,
                d.deployed_by,
              ]),
            ),
            `(${page.items.length} of ${page.total})`,
          ].join('\n'),
        );
        hintNextPage(page, format);
      }),
    );

  output(
    train
      .command('deploy')
      .description(
        'deploy every member of a train to an environment in one GitOps commit (deployer:<env>); refused whole, nothing committed, when the policy refuses any member',
      ),
  )
    .argument('<env>', 'the environment, as forge.yaml names it')
    .argument('<train>', 'name or id')
    .option('--dry-run', 'only evaluate the policy for every member, deploy nothing (exit 1 when refused)')
    .option('--reason <text>', "why, recorded with every member's deployment")
    .action(
      run(async (env: string, ref: string, opts: TrainOpts & { dryRun?: boolean }) => {
        if (opts.dryRun) {
          const format = parseFormat(opts.output);
          const answer = await client(opts).request<TrainPolicyResult>('POST', path(ref, '/policy-checks'), { environment: env });
          print(
            answer,
            format,
            () =>
              `${memberChecks(answer.members)}\n\n${answer.allowed ? 'allowed' : 'refused'}: train ${ref} ${answer.allowed ? 'may' : 'may not'} be deployed to ${env}`,
          );
          if (!answer.allowed) process.exitCode = 1;
          return;
        }
        await sendTrain(opts, path(ref, '/deployments'), { environment: env, ...(opts.reason ? { reason: opts.reason } : {}) });
      }),
    );

  output(
    train
      .command('rollback')
      .description(
        "roll every member of the train's newest deployment to ENV back to the release it ran before, in one GitOps commit, and pin each against auto-deploy (deployer:<env>)",
      ),
  )
    .argument('<env>', 'the environment, as forge.yaml names it')
    .argument('<train>', 'name or id')
    .option('--reason <text>', "why, recorded with every member's deployment")
    .action(
      run(async (env: string, ref: string, opts: TrainOpts) => {
        await sendTrain(opts, path(ref, '/rollbacks'), { environment: env, ...(opts.reason ? { reason: opts.reason } : {}) });
      }),
    );

  output(train.command('approve').description("approve exactly the train's member releases for an environment (approver:<env>)"))
    .argument('<env>', 'the environment, as forge.yaml names it')
    .argument('<train>', 'name or id')
    .requiredOption('-j, --justification <text>', 'why these releases may go to this environment')
    .action(
      run(async (env: string, ref: string, opts: TrainOpts) => {
        const format = parseFormat(opts.output);
        const answer = await client(opts).request<TrainApprovals>('POST', path(ref, '/approvals'), {
          environment: env,
          justification: opts.justification,
        });
        print(answer, format, () => {
          const given = [
            ...answer.approvals.map((a) => [a.repository, a.project, a.id, 'approved now']),
            ...answer.already_approved.map((a) => [a.repository, a.project, a.approval_id, 'already approved by you']),
          ];
          // what was approved, member by member: the policy as another deployer meets it now
          const verdict = (m: TrainPolicyResult['members'][number]) =>
            m.allowed
              ? 'deployable'
              : `refused by ${m.checks
                  .filter((c) => !c.ok)
                  .map((c) => c.name)
                  .join(', ')}`;
          return table(
            ['repository', 'project', 'release', 'approval', 'status', `${env} policy now`],
            answer.members.map((m) => {
              const g = given.find((x) => x[0] === m.repository && x[1] === m.project);
              return [m.repository, m.project, m.release_number, g?.[2] ?? '-', g?.[3] ?? '-', verdict(m)];
            }),
          );
        });
      }),
    );

  output(
    train.command('diff').description('which members changed from train A to train B, and the semantic manifest diff of each changed one'),
  )
    .argument('<a>', 'name or id')
    .argument('<b>', 'name or id')
    .action(
      run(async (a: string, b: string, opts: TrainOpts) => {
        const format = parseFormat(opts.output);
        const d = await client(opts).request<TrainDiff>('GET', path(a, `/diff/${encodeURIComponent(b)}`));
        print(d, format, () => {
          const rows = d.members.map((m) => [`${m.repository}/${m.project}`, m.change, m.from?.release_number, m.to?.release_number]);
          const changed = d.members
            .filter((m) => m.diff)
            .map(
              (m) =>
                `${m.repository}/${m.project}: release ${m.from!.release_number} -> ${m.to!.release_number}\n${formatSemanticDiff(m.diff!)}`,
            );
          return [`train ${d.from.name} -> ${d.to.name}`, table(['project', 'change', d.from.name, d.to.name], rows), ...changed].join(
            '\n\n',
          );
        });
      }),
    );
}
