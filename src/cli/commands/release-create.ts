/**
 * `forge release create [PROJECT_DIR...] [--manual] [--dry-run]` (DESIGN.md §6, §14): in a CI
 * checkout, release every triggered project. Progress per project and step: a live task list
 * on a terminal, one plain line per step on stderr otherwise. Each project fails on its own;
 * the exit code is 1 when any failed, and the output names them.
 */
import type { Command } from 'commander';
import type { Release, Whoami } from '../../contract/index.js';
import type { ReleaseArtifact } from '../../pipeline/artifacts.js';
import type { ChangeDecision, PreviousRelease } from '../../pipeline/changes.js';
import type { CueEngine } from '../../pipeline/cue-engine.js';
import type { ProjectPlan, ReleasePlan, ReleaseRequest } from '../../pipeline/release.js';
import { ApiError, type Client, client, clientOptions, serverOf } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { cliSettings, type PipelineSettings } from '../settings.js';
import { releasePath } from './release.js';

type Pipeline = typeof import('../../pipeline/release.js');

interface Opts {
  server?: string;
  token?: string;
  repository?: string;
  output: string;
  manual?: boolean;
  dryRun?: boolean;
  all?: boolean;
}

interface Step {
  title: string;
  /** Resolves with the step's last word when it is not "ok" (a project left unchanged). */
  run: (note: (text: string) => void) => Promise<void> | Promise<string | undefined>;
}

interface Job {
  project: string;
  steps: Step[];
  error?: Error;
}

/** Runs the jobs one project at a time; a failing step stops only its project. */
async function runJobs(jobs: Job[], live: boolean): Promise<void> {
  const guarded = (job: Job, step: Step) => async (note: (t: string) => void) => {
    try {
      return await step.run(note);
    } catch (err) {
      job.error = err as Error;
      throw err;
    }
  };
  if (live) {
    const { Listr } = await import('listr2');
    const list = new Listr(
      jobs.map((job) => ({
        title: job.project,
        task: (_: unknown, t: { newListr: (tasks: unknown[], o: object) => unknown }) =>
          t.newListr(
            job.steps.map((s) => ({
              title: s.title,
              task: async (_c: unknown, st: { output: string }) => {
                const said = await guarded(job, s)((text) => (st.output = text));
                if (said) st.output = said;
              },
            })),
            { exitOnError: true },
          ),
      })) as never,
      { concurrent: false, exitOnError: false, collectErrors: false },
    );
    await list.run().catch(() => undefined);
    return;
  }
  for (const job of jobs) {
    for (const step of job.steps) {
      try {
        const said = await guarded(job, step)((text) => process.stderr.write(`${job.project}: ${step.title}: ${text}\n`));
        process.stderr.write(`${job.project}: ${step.title}: ${said || 'ok'}\n`);
      } catch (err) {
        process.stderr.write(`${job.project}: ${step.title}: failed: ${(err as Error).message}\n`);
        break;
      }
    }
  }
}

type Outcome = {
  project: string;
  status: 'created' | 'existing' | 'skipped' | 'unchanged' | 'failed' | 'dry-run';
  release?: Release;
  request?: ReleaseRequest;
  reason?: string;
};

/**
 * Before anything is built: the server answers as Forge and takes the token as one that may
 * register releases (the service-account role). Throws ApiError/Error with a hint otherwise.
 */
async function preflight(api: Client, server: string): Promise<void> {
  const me = await api.request<Whoami>('GET', '/whoami');
  if (!me.roles.includes('service-account')) {
    throw new Error(
      `the token is ${me.subject} (roles: ${me.roles.join(', ') || 'none'}) at ${server}, but registering releases needs the service-account role\nhint: run in CI with the pipeline's token (FORGE_TOKEN), or create one: forge token create --subject ci --role service-account`,
    );
  }
}

/** The newest release of the project, undefined when it has none yet. */
async function previousRelease(api: Client, repository: string, project: string): Promise<Release | undefined> {
  try {
    const page = await api.request<{ items: Release[] }>('GET', `${releasePath(repository, project)}?limit=1`);
    return page.items[0];
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

export function registerReleaseCreate(program: Command) {
  const release = program.commands.find((c) => c.name() === 'release') ?? program.command('release');
  clientOptions(
    release
      .command('create')
      .description(
        'build, render and register a release of every triggered project whose inputs changed since its previous release (run in a CI checkout)',
      ),
  )
    .argument('[project-dir...]', 'only these project directories (default: every project in the repository)')
    .option('--manual', 'release the projects whatever their release.on says (trigger type manual)')
    .option('--all', 'release every triggered project, changed or not (no change detection)')
    .option(
      '--dry-run',
      'evaluate triggers, detect changes (when the server can be asked) and render with placeholder artifact values; build, push and register nothing',
    )
    .option('--repository <owner/name>', 'repository (default: the origin remote of the checkout)')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (dirs: string[], opts: Opts) => {
        const format = parseFormat(opts.output);
        const { requireRepository } = await import('../../pipeline/discovery.js');
        await requireRepository(process.cwd(), 'forge release create');
        const { pipeline } = cliSettings();
        const api = client(opts);
        // Server and token first: a down server or a wrong token is known before minutes of building.
        if (!opts.dryRun) await preflight(api, serverOf(opts));
        const [{ CueEngine }, pipe, changes] = await Promise.all([
          import('../../pipeline/cue-engine.js'),
          import('../../pipeline/release.js'),
          import('../../pipeline/changes.js'),
        ]);
        const engine = new CueEngine(undefined, { registry: cliSettings().cue });
        try {
          const plan = await pipe.planRelease(engine, {
            cwd: process.cwd(),
            dirs,
            manual: Boolean(opts.manual),
            ci: pipeline.ci,
            repository: (root) => resolveRepository(opts.repository, root),
          });
          // Tag and manual releases carry where the commit is for the branch rule (issue #13 item
          // 1): when the checkout cannot tell, say so, with the hint.
          if (plan.git.branchesUnknown && plan.projects.some((p) => p.decision?.triggered && p.decision.trigger.type !== 'branch_push')) {
            process.stderr.write(`warning: ${plan.git.branchesUnknown}\n`);
          }
          const outcomes: Outcome[] = [];
          const jobs: Job[] = [];
          for (const p of plan.projects) {
            const name = p.config?.name ?? p.relDir;
            if (p.error) {
              jobs.push({
                project: name,
                steps: [
                  {
                    title: 'evaluate',
                    run: async () => {
                      throw p.error;
                    },
                  },
                ],
              });
              continue;
            }
            if (!p.decision!.triggered) {
              outcomes.push({ project: name, status: 'skipped', reason: p.decision!.reason });
              process.stderr.write(`${name}: skipped: ${p.decision!.reason}\n`);
              continue;
            }
            // Change detection applies to branch pushes only: a tag always registers (or attaches
            // to the release of the same content), a manual run and --all release regardless. A
            // dry run detects changes too when it can ask the server for the previous release;
            // when it cannot, it says that it skipped them and shows the project as changed.
            let previous: Release | undefined;
            const detect = p.decision!.trigger.type === 'branch_push' && !opts.all;
            if (detect) {
              let change: ChangeDecision;
              try {
                try {
                  previous = await previousRelease(api, plan.repository, name);
                } catch (err) {
                  if (!opts.dryRun) throw err;
                  const why = (err as Error).message.split('\n')[0];
                  process.stderr.write(
                    `${name}: change detection skipped (dry run): cannot read the previous release from ${serverOf(opts)}: ${why}; shown as if its inputs changed (a real run would stop here)\n`,
                  );
                  jobs.push({ project: name, steps: projectSteps(pipe, engine, plan, p, true, api, outcomes, pipeline, undefined) });
                  continue;
                }
                const prev: PreviousRelease | undefined = previous;
                change = await changes.detectChange(plan.root, plan.git.sha, prev, await changes.inputsOfProject(p.src!, p.config!));
              } catch (err) {
                jobs.push({
                  project: name,
                  steps: [
                    {
                      title: 'change detection',
                      run: async () => {
                        throw err;
                      },
                    },
                  ],
                });
                continue;
              }
              if ('warning' in change && change.warning) process.stderr.write(`${name}: warning: ${change.warning}\n`);
              if (!change.changed) {
                outcomes.push({ project: name, status: 'skipped', reason: change.reason });
                process.stderr.write(`${name}: skipped: ${change.reason}\n`);
                continue;
              }
              process.stderr.write(`${name}: ${change.reason}${change.files.length ? `: ${change.files.join(', ')}` : ''}\n`);
            }
            jobs.push({
              project: name,
              steps: projectSteps(pipe, engine, plan, p, Boolean(opts.dryRun), api, outcomes, pipeline, previous),
            });
          }
          await runJobs(jobs, Boolean(process.stdout.isTTY && process.stdout.columns));
          const failed = jobs.filter((j) => j.error);
          for (const j of failed) outcomes.push({ project: j.project, status: 'failed', reason: j.error!.message });

          if (format === 'json' || format === 'yaml') {
            // One entry per project, whatever became of it, so a pipeline tells "skipped" from
            // "nothing": {project, status, reason?, release? (registered, existing or the
            // unchanged previous one), request? (what a dry run would send)}.
            print(outcomes, format, () => '');
          } else {
            print(outcomes, format, () =>
              table(
                ['project', 'status', 'release', 'aliases / reason'],
                outcomes.map((o) => [
                  o.project,
                  o.status,
                  o.release
                    ? `#${o.release.release_number}`
                    : o.request
                      ? `${o.request.trigger.type}, ${o.request.resources.length} resources`
                      : '-',
                  o.release && o.status !== 'unchanged'
                    ? o.release.aliases
                        .filter((a) => a.alias_type !== 'numeric')
                        .map((a) => a.alias)
                        .join(', ')
                    : summary(o.reason ?? ''),
                ]),
              ),
            );
          }
          if (failed.length) throw new Error(`release failed for ${failed.length} project(s): ${failed.map((j) => j.project).join(', ')}`);
        } finally {
          await engine.close();
        }
      }),
    );
}

/** A reason in one table cell: its first line, and the next when the first only introduces it (ends with ":"). */
function summary(reason: string): string {
  const [first = '', second] = reason.split('\n');
  return first.trimEnd().endsWith(':') && second ? `${first.trimEnd()} ${second.trim()}` : first;
}

function projectSteps(
  pipe: Pipeline,
  engine: CueEngine,
  plan: ReleasePlan,
  p: ProjectPlan,
  dryRun: boolean,
  api: Client,
  outcomes: Outcome[],
  pipeline: PipelineSettings,
  previous: Release | undefined,
): Step[] {
  const name = p.config!.name;
  let artifacts: ReleaseArtifact[] = [];
  let resources: unknown[] = [];
  return [
    {
      title: dryRun ? 'artifacts (dry run: not built)' : `build and publish ${p.config!.artifacts.length} artifact(s)`,
      run: async (note) => {
        artifacts = dryRun
          ? pipe.placeholderArtifacts(p)
          : await pipe.buildArtifacts(plan, p, {
              publish: pipeline.publish,
              environment: pipeline.environment,
              onPush: (what, r) => note(`${r.pushed ? 'pushed' : 'already present'} ${what}`),
            });
      },
    },
    {
      title: 'render and check manifests',
      run: async () => {
        resources = await pipe.renderRelease(engine, p, artifacts);
      },
    },
    {
      title: dryRun ? 'register (dry run: not sent)' : 'register release',
      run: async () => {
        const request = pipe.releaseRequest(plan, p, artifacts, resources);
        if (dryRun) {
          outcomes.push({ project: name, status: 'dry-run', request });
          return;
        }
        if (previous && previous.commit_sha !== plan.git.sha) {
          // The same manifests and artifact digests as the previous release: no new release, so
          // nothing is auto-deployed (a no-op deploy and a second number for one content).
          const [{ resourcesDigest }, { sameContent }] = await Promise.all([
            import('../../core/release-image.js'),
            import('../../pipeline/changes.js'),
          ]);
          const digest = resourcesDigest(request.resources as Record<string, unknown>[], previous.source.committed_at);
          if (sameContent(previous, digest, artifacts)) {
            const reason = `same manifests and artifact digests as release #${previous.release_number}: not registered, nothing to deploy`;
            outcomes.push({ project: name, status: 'unchanged', release: previous, reason });
            return reason;
          }
        }
        const created = await api.request<Release & { content_matches?: boolean }>('POST', '/releases', request);
        outcomes.push({ project: name, status: created.content_matches === undefined ? 'created' : 'existing', release: created });
      },
    },
  ];
}
