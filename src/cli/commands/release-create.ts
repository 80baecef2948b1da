/**
 * `forge release create [PROJECT_DIR...] [--manual] [--dry-run]` (DESIGN.md §6, §14): in a CI
 * checkout, release every triggered project. Progress per project and step: a live task list
 * on a terminal, one plain line per step on stderr otherwise. Each project fails on its own;
 * the exit code is 1 when any failed, and the output names them.
 */
import type { Command } from 'commander';
import { Listr } from 'listr2';
import type { Release } from '../../contract/index.js';
import type { ReleaseArtifact } from '../../pipeline/artifacts.js';
import { CueEngine } from '../../pipeline/cue-engine.js';
import {
  buildArtifacts,
  type ProjectPlan,
  placeholderArtifacts,
  planRelease,
  type ReleaseRequest,
  releaseRequest,
  renderRelease,
} from '../../pipeline/release.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { cliSettings, type PipelineSettings } from '../settings.js';

interface Opts {
  server?: string;
  token?: string;
  repository?: string;
  output: string;
  manual?: boolean;
  dryRun?: boolean;
}

interface Step {
  title: string;
  run: (note: (text: string) => void) => Promise<void>;
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
      await step.run(note);
    } catch (err) {
      job.error = err as Error;
      throw err;
    }
  };
  if (live) {
    const list = new Listr(
      jobs.map((job) => ({
        title: job.project,
        task: (_: unknown, t: { newListr: (tasks: unknown[], o: object) => unknown }) =>
          t.newListr(
            job.steps.map((s) => ({
              title: s.title,
              task: (_c: unknown, st: { output: string }) => guarded(job, s)((text) => (st.output = text)),
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
        await guarded(job, step)((text) => process.stderr.write(`${job.project}: ${step.title}: ${text}\n`));
        process.stderr.write(`${job.project}: ${step.title}: ok\n`);
      } catch (err) {
        process.stderr.write(`${job.project}: ${step.title}: failed: ${(err as Error).message}\n`);
        break;
      }
    }
  }
}

type Outcome = {
  project: string;
  status: 'created' | 'existing' | 'skipped' | 'failed' | 'dry-run';
  release?: Release;
  request?: ReleaseRequest;
  reason?: string;
};

export function registerReleaseCreate(program: Command) {
  const release = program.commands.find((c) => c.name() === 'release') ?? program.command('release');
  clientOptions(
    release.command('create').description('build, render and register a release of every triggered project (run in a CI checkout)'),
  )
    .argument('[project-dir...]', 'only these project directories (default: every project in the repository)')
    .option('--manual', 'release the projects whatever their release.on says (trigger type manual)')
    .option('--dry-run', 'evaluate triggers and render with placeholder artifact values; build, push and register nothing')
    .option('--repository <owner/name>', 'repository (default: the origin remote of the checkout)')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (dirs: string[], opts: Opts) => {
        const format = parseFormat(opts.output);
        const { pipeline } = cliSettings();
        const engine = new CueEngine(undefined, { registry: cliSettings().cue });
        try {
          const plan = await planRelease(engine, {
            cwd: process.cwd(),
            dirs,
            manual: Boolean(opts.manual),
            ci: pipeline.ci,
            repository: (root) => resolveRepository(opts.repository, root),
          });
          const api = client(opts);
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
            jobs.push({ project: name, steps: projectSteps(engine, plan, p, Boolean(opts.dryRun), api, outcomes, pipeline) });
          }
          await runJobs(jobs, Boolean(process.stdout.isTTY && process.stdout.columns));
          const failed = jobs.filter((j) => j.error);
          for (const j of failed) outcomes.push({ project: j.project, status: 'failed', reason: j.error!.message });

          if (format === 'json' || format === 'yaml') {
            const data = opts.dryRun
              ? outcomes.flatMap((o) => (o.request ? [o.request] : []))
              : outcomes.flatMap((o) => (o.release ? [o.release] : []));
            print(data, format, () => '');
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
                  o.release
                    ? o.release.aliases
                        .filter((a) => a.alias_type !== 'numeric')
                        .map((a) => a.alias)
                        .join(', ')
                    : (o.reason ?? '').split('\n')[0],
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

function projectSteps(
  engine: CueEngine,
  plan: Awaited<ReturnType<typeof planRelease>>,
  p: ProjectPlan,
  dryRun: boolean,
  api: ReturnType<typeof client>,
  outcomes: Outcome[],
  pipeline: PipelineSettings,
): Step[] {
  const name = p.config!.name;
  let artifacts: ReleaseArtifact[] = [];
  let resources: unknown[] = [];
  return [
    {
      title: dryRun ? 'artifacts (dry run: not built)' : `build and publish ${p.config!.artifacts.length} artifact(s)`,
      run: async (note) => {
        artifacts = dryRun
          ? placeholderArtifacts(p)
          : await buildArtifacts(plan, p, {
              publish: pipeline.publish,
              environment: pipeline.environment,
              onPush: (what, r) => note(`${r.pushed ? 'pushed' : 'already present'} ${what}`),
            });
      },
    },
    {
      title: 'render and check manifests',
      run: async () => {
        resources = await renderRelease(engine, p, artifacts);
      },
    },
    {
      title: dryRun ? 'register (dry run: not sent)' : 'register release',
      run: async () => {
        const request = releaseRequest(plan, p, artifacts, resources);
        if (dryRun) {
          outcomes.push({ project: name, status: 'dry-run', request });
          return;
        }
        const created = await api.request<Release & { content_matches?: boolean }>('POST', '/releases', request);
        outcomes.push({ project: name, status: created.content_matches === undefined ? 'created' : 'existing', release: created });
      },
    },
  ];
}
