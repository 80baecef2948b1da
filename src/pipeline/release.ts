/**
 * `forge release create` as pipeline steps (DESIGN.md §6): plan (discover, evaluate every
 * project, decide triggers), then per triggered project build + publish its artifacts, render
 * with the real artifact values, check the objects, and make the request the server registers.
 * Each project fails on its own; the CLI shows the steps and sends the requests.
 */

import type { Env } from '../config/environment.js';
import type { CreateReleaseRequest } from '../contract/index.js';
import type { TaggingStrategy } from '../core/aliases.js';
import { lookupArtifactRef } from '../core/artifact-refs.js';
import { evaluateTrigger, type TriggerDecision } from '../core/triggers.js';
import { type ArtifactOutputs, placeholderOutputs } from './artifact-config.js';
import { buildArtifact, type PublishSettings, type PushResult, type ReleaseArtifact } from './artifacts.js';
import type { CueEngine } from './cue-engine.js';
import { assertUniqueNames } from './discovery.js';
import { type CiCheckout, commitUrl, type GitContext, readGitContext } from './git-context.js';
import { evaluateProject, type ProjectConfig, type ProjectSource, readProjectSource } from './project.js';
import { checkResources } from './render.js';
import { openWorkspace, selectProjects } from './workspace.js';

/** The body of `POST /api/v1/releases` (DESIGN.md §10), as the contract defines it. */
export type ReleaseRequest = CreateReleaseRequest;

export interface ProjectPlan {
  relDir: string;
  dir: string;
  src?: ProjectSource;
  config?: ProjectConfig;
  /** Why evaluating the project failed. */
  error?: Error;
  decision?: TriggerDecision;
}

export interface ReleasePlan {
  root: string;
  strategy: TaggingStrategy;
  git: GitContext;
  repository: string;
  projects: ProjectPlan[];
}

export interface PlanOptions {
  cwd: string;
  dirs: string[];
  manual: boolean;
  /** What CI says it checked out (the CLI's settings). */
  ci: CiCheckout;
  /** `owner/name`, from the CLI (`--repository` or the origin remote). */
  repository: (root: string) => string;
}

/** Discovers and evaluates the projects and decides which are released. */
export async function planRelease(engine: CueEngine, o: PlanOptions): Promise<ReleasePlan> {
  const ws = await openWorkspace(engine, o.cwd);
  const selected = await selectProjects(ws, o.dirs, o.cwd);
  const git = await readGitContext(ws.root, o.ci);
  const repository = o.repository(ws.root);
  const projects: ProjectPlan[] = [];
  for (const p of selected) {
    const plan: ProjectPlan = { relDir: p.relDir, dir: p.dir };
    try {
      plan.src = await readProjectSource(p.dir, ws.root);
      plan.config = await evaluateProject(engine, plan.src);
      plan.decision = evaluateTrigger(plan.config.name, plan.config.release, git, ws.strategy, o.manual);
    } catch (err) {
      plan.error = err as Error;
    }
    projects.push(plan);
  }
  assertUniqueNames(projects.flatMap((p) => (p.config ? [{ name: p.config.name, relDir: p.relDir }] : [])));
  return { root: ws.root, strategy: ws.strategy, git, repository, projects };
}

export interface BuildOptions {
  /** How to publish (the CLI's settings). */
  publish: PublishSettings;
  /** The environment producer commands run in (the CLI's settings). */
  environment: Env;
  /** Hears every push decision (`pushed: false` when the registry already had it). */
  onPush?: (what: string, result: PushResult) => void;
}

/** Builds and publishes every artifact of a triggered project. */
export async function buildArtifacts(plan: ReleasePlan, p: ProjectPlan, o: BuildOptions): Promise<ReleaseArtifact[]> {
  const mtime = plan.git.committedAt ? Math.floor(Date.parse(plan.git.committedAt) / 1000) : 0;
  const out: ReleaseArtifact[] = [];
  for (const a of p.config!.artifacts) {
    out.push(
      await buildArtifact(
        a,
        {
          projectDir: p.dir,
          project: p.config!.name,
          sha: plan.git.sha,
          mtime,
          repository: plan.repository,
          publish: o.publish,
          environment: o.environment,
        },
        o.onPush,
      ),
    );
  }
  return out;
}

/** Placeholder artifact records (for `--dry-run`, which builds nothing). */
export function placeholderArtifacts(p: ProjectPlan): ReleaseArtifact[] {
  return p.config!.artifacts.map((a) => {
    const outputs = placeholderOutputs(a);
    return { name: a.name, type: a.type, ...(outputs.uri ? { primary_published_uri: outputs.uri } : {}), outputs };
  });
}

/** Renders the project with the artifacts' real values and checks the objects. */
export async function renderRelease(engine: CueEngine, p: ProjectPlan, artifacts: ReleaseArtifact[]): Promise<unknown[]> {
  const outputs: Record<string, ArtifactOutputs> = Object.fromEntries(artifacts.map((a) => [a.name, a.outputs]));
  const cfg = await evaluateProject(
    engine,
    p.src!,
    (r, file) => lookupArtifactRef(outputs as Record<string, unknown>, r, file),
    () => outputs,
  );
  checkResources(p.relDir, cfg.resources);
  return cfg.resources;
}

export function releaseRequest(plan: ReleasePlan, p: ProjectPlan, artifacts: ReleaseArtifact[], resources: unknown[]): ReleaseRequest {
  const { git } = plan;
  const decision = p.decision as Extract<TriggerDecision, { triggered: true }>;
  const url = git.remote ? commitUrl(git.remote, plan.repository, git.sha) : undefined;
  return {
    repository: plan.repository,
    project: p.config!.name,
    commit: {
      sha: git.sha,
      ...(git.author ? { author: git.author } : {}),
      ...(git.message !== undefined ? { message: git.message } : {}),
      ...(git.committedAt ? { committed_at: git.committedAt } : {}),
      ...(url ? { url } : {}),
      // Where the commit is, for the branch rule on tag and manual releases (issue #13 item 1);
      // absent when the checkout cannot tell, which the rule treats as unknown.
      ...(decision.trigger.type !== 'branch_push' && git.branches ? { branches: git.branches } : {}),
    },
    trigger: decision.trigger,
    tags: decision.tags,
    tagging_strategy: plan.strategy,
    artifacts,
    resources: resources as ReleaseRequest['resources'],
  };
}
