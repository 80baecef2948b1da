/**
 * Deploy and roll back (DESIGN.md §7, §8): permission → request → policy → a pending row with a
 * lease → one pointer commit in the GitOps repository → active (the previous one superseded)
 * or failed. The database and git's compare-and-swap carry the correctness; nothing here
 * depends on which replica handles what.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { commitMessage, type ReleaseLabel } from '../core/commit-message.js';
import { ForgeError, validationError, type FieldProblem } from '../core/errors.js';
import { projectProblem, repositoryProblem } from '../core/identity.js';
import { type Action, type Principal, describeAction, isAllowed } from '../core/permissions.js';
import { DEFAULT_PLATFORM_CONFIG, findEnvironment, parsePlatformConfig, type Environment, type PlatformConfig } from '../core/platform-config.js';
import { evaluatePolicy, classifyApprovals, type PolicyDecision } from '../core/policy.js';
import { pointerPath, renderPointer } from '../core/pointer.js';
import { initEmbeddedRemote, remoteSettingsFromEnv, resolveRemote, type GitOpsRemote } from '../gitops/remote.js';
import { GitOpsWriter, UpdateWithdrawnError, type WriterOptions } from '../gitops/writer.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import * as approvals from '../store/approvals.js';
import * as deployments from '../store/deployments.js';
import type { Deployment, DeploymentKind, PendingWork } from '../store/deployments.js';
import * as pins from '../store/pins.js';
import * as releases from '../store/releases.js';
import type { Release } from '../store/releases.js';
import { startRecovery } from './recovery.js';
import { deploymentsTotal } from '../observability/metrics.js';

/** The system actor that makes auto-deploys (DESIGN.md §7). */
export const AUTO_DEPLOY_ACTOR = 'forge:auto-deploy';

export interface DeployContext {
  db: Db;
  platform: PlatformConfig;
  gitops: GitOpsWriter;
  /** This process's identity as a lease owner. */
  replica: string;
  leaseMs: number;
  /**
   * Pending deployments this process is completing, with when (local clock, taken before the
   * query) their lease was last granted or renewed; renewed on a timer while here.
   */
  held: Map<string, number>;
  /** Background completions (auto-deploys, recovery), awaited on close. */
  inflight: Set<Promise<unknown>>;
  /**
   * Test-only fault injection (FORGE_FAULT_PAUSE_BEFORE_GITOPS_PUSH_MS / _AFTER_): a pause
   * before the pointer push or before recording its outcome, so a test can kill the process
   * at that point. A crash there cannot be provoked otherwise.
   */
  faults: { pauseBeforePushMs: number; pauseAfterPushMs: number };
}

export interface DeployContextOptions {
  db: Db;
  platform: PlatformConfig;
  remote: GitOpsRemote;
  branch: string;
  /** Where the bare clone of the GitOps repository is kept. */
  cacheDir: string;
  /** Commit author, `Name <email>`. */
  author?: string;
  leaseMs?: number;
  retry?: WriterOptions['retry'];
  faults?: Partial<DeployContext['faults']>;
}

export type OpenDeployContext = DeployContext & { close: () => Promise<void> };

/**
 * A replica's deployment machinery: the GitOps writer (confirming leases before each push) and
 * a timer renewing the leases of the deployments it is completing. `close` stops both after
 * the background work ends.
 */
export async function openDeployContext(opts: DeployContextOptions): Promise<OpenDeployContext> {
  const replica = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  const leaseMs = opts.leaseMs ?? 30_000;
  const held = new Map<string, number>();
  const gitops = await GitOpsWriter.open({
    remote: opts.remote, branch: opts.branch, cacheDir: opts.cacheDir, author: opts.author ?? 'Forge <forge@localhost>', retry: opts.retry,
    // Replicas on one PostgreSQL take turns at the remote (PGlite means one process: nothing to share).
    lockRemote: opts.db.kind === 'postgres'
      ? (attempt) => opts.db.transaction(async (tx) => {
        await tx.query('select pg_advisory_xact_lock(hashtextextended($1, 3))', [`gitops:${opts.remote.url}`]);
        return attempt();
      })
      : undefined,
    confirm: async (ids) => {
      // A lease renewed less than a third of a lease ago cannot have expired yet: no query for it.
      const now = Date.now();
      const stale = ids.filter((id) => !(now - (held.get(id) ?? 0) < leaseMs / 3));
      const renewed = new Set(await deployments.renewLeases(opts.db, stale, replica, leaseMs));
      for (const id of renewed) if (held.has(id)) held.set(id, now);
      return ids.filter((id) => renewed.has(id) || !stale.includes(id));
    },
  });
  const ctx: DeployContext = {
    db: opts.db, platform: opts.platform, gitops, replica, leaseMs, held, inflight: new Set(),
    faults: { pauseBeforePushMs: 0, pauseAfterPushMs: 0, ...opts.faults },
  };
  const timer = setInterval(() => {
    if (!ctx.held.size) return;
    const now = Date.now();
    deployments.renewLeases(ctx.db, [...ctx.held.keys()], ctx.replica, ctx.leaseMs).then((ids) => {
      for (const id of ids) if (ctx.held.has(id)) ctx.held.set(id, now);
    }, () => {
      // the next tick, or the writer's confirm before its push, tries again
    });
  }, Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();
  return Object.assign(ctx, {
    async close() {
      clearInterval(timer);
      while (ctx.inflight.size) await Promise.allSettled([...ctx.inflight]);
      await gitops.close();
    },
  });
}

/**
 * The deployment machinery of `forge serve` from its settings and environment (DESIGN.md §14):
 * the platform config (validated now, so a bad file stops the start with its lines), the
 * GitOps remote (an embedded bare repository under the data directory when none is named),
 * and the recovery sweep. `close` stops the sweep and waits for work in flight.
 */
export async function openServerDeployments(settings: { dataDir: string; configFile?: string; gitopsUrl?: string; gitopsBranch: string }, db: Db, env = process.env): Promise<OpenDeployContext> {
  const platform = settings.configFile ? parsePlatformConfig(readFileSync(settings.configFile, 'utf8'), settings.configFile) : DEFAULT_PLATFORM_CONFIG;
  const remote = resolveRemote(remoteSettingsFromEnv(settings.dataDir, { ...env, FORGE_GITOPS_URL: settings.gitopsUrl ?? '' }));
  if (!settings.gitopsUrl) initEmbeddedRemote(remote.url, settings.gitopsBranch);
  const ctx = await openDeployContext({
    db, platform, remote, branch: settings.gitopsBranch, cacheDir: join(settings.dataDir, 'gitops-cache'),
    author: env.FORGE_GITOPS_AUTHOR || undefined,
    leaseMs: env.FORGE_DEPLOY_LEASE_MS ? Number(env.FORGE_DEPLOY_LEASE_MS) : undefined,
    retry: env.FORGE_GITOPS_PUSH_ATTEMPTS ? { attempts: Number(env.FORGE_GITOPS_PUSH_ATTEMPTS) } : undefined,
    faults: { pauseBeforePushMs: Number(env.FORGE_FAULT_PAUSE_BEFORE_GITOPS_PUSH_MS ?? 0), pauseAfterPushMs: Number(env.FORGE_FAULT_PAUSE_AFTER_GITOPS_PUSH_MS ?? 0) },
  });
  const stopRecovery = startRecovery(ctx);
  const close = ctx.close;
  return Object.assign(ctx, { close: async () => { await stopRecovery(); await close(); } });
}

export interface DeployRequest {
  repository: string;
  project: string;
  environment: string;
  release: string;
  reason?: string;
}

export type RollbackRequest = Omit<DeployRequest, 'release'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function requirePermission(principal: Principal, action: Action): void {
  if (!isAllowed(principal, action)) {
    throw new ForgeError('permission_denied', `${principal.subject} may not do this: it needs ${describeAction(action)}`, {
      required: describeAction(action), roles: principal.roles,
    });
  }
}

/** Validates repository, project and environment (400) and finds the environment (404). */
export function checkTarget(ctx: { platform: PlatformConfig }, body: { repository?: unknown; project?: unknown; environment?: unknown }) {
  const problems: FieldProblem[] = [];
  const rp = repositoryProblem(body.repository);
  if (rp) problems.push({ path: 'repository', message: rp });
  const pp = projectProblem(body.project);
  if (pp) problems.push({ path: 'project', message: pp });
  if (typeof body.environment !== 'string' || !body.environment) problems.push({ path: 'environment', message: 'expected an environment name' });
  if (problems.length) throw validationError(problems);
  const environment = findEnvironment(ctx.platform, body.environment as string);
  if (!environment) {
    throw new ForgeError('not_found', `environment "${body.environment}" is not configured; known environments: ${ctx.platform.environments.map((e) => e.name).join(', ')}`);
  }
  return { repository: (body.repository as string).toLowerCase(), project: body.project as string, environment };
}

function label(r: Release): ReleaseLabel {
  return { releaseNumber: r.release_number, sha: r.commit_sha, tagAliases: r.aliases.filter((a) => a.alias_type === 'tag').map((a) => a.alias) };
}

async function evaluate(ctx: DeployContext, env: Environment, release: Release, deployer: string, auto: boolean): Promise<PolicyDecision & { approvalIds: string[]; approvers: string[] }> {
  const found = await approvals.approvalsFor(ctx.db, release.oci_digest, env.name);
  const now = new Date();
  const pin = auto ? (await pins.getPin(ctx.db, env.name, release.repository, release.project)) ?? null : undefined;
  const decision = evaluatePolicy({ policy: env.policy, triggers: release.triggers, approvals: found, deployer, now, pin });
  const approvers = classifyApprovals({ policy: env.policy, approvals: found, deployer, now }).counted;
  const approvalIds = found.filter((a) => a.status === 'active' && approvers.includes(a.approver)).map((a) => a.id);
  return { ...decision, approvalIds, approvers };
}

function denied(env: Environment, release: Release, decision: PolicyDecision): ForgeError {
  const failed = decision.checks.filter((c) => !c.ok);
  return new ForgeError('policy_denied',
    `release ${release.release_number} of ${release.repository}/${release.project} may not be deployed to ${env.name}: ${failed.map((c) => `${c.name}: ${c.reason}`).join('; ')}`,
    { checks: decision.checks });
}

/** The dry run: every check, no deployment. */
export async function checkPolicy(ctx: DeployContext, principal: Principal, body: DeployRequest) {
  const { repository, project, environment } = checkTarget(ctx, body);
  const release = await releases.resolveRelease(ctx.db, repository, project, body.release);
  const { allowed, checks } = await evaluate(ctx, environment, release, principal.subject, false);
  return { allowed, checks };
}

/** Records a pending deployment (or a refused auto-deploy) and returns its work item. */
async function record(ctx: DeployContext, args: {
  kind: DeploymentKind; env: Environment; release: Release; actor: string; reason?: string;
  decision: Awaited<ReturnType<typeof evaluate>>; current?: Deployment;
}): Promise<{ id: string; work?: PendingWork }> {
  const { kind, env, release, actor, decision, current } = args;
  const id = randomUUID();
  const previous = current ? await releases.findById(ctx.db, current.release_id) : undefined;
  const base = {
    id, release_id: release.id, repository: release.repository, project: release.project, environment: env.name, kind,
    deployed_by: actor, deployed_at: new Date().toISOString(), reason: args.reason ?? null,
    approval_ids: decision.approvalIds, approved_by: decision.approvers, previous_release_id: previous?.id ?? null,
  };
  if (!decision.allowed) {
    const error = denied(env, release, decision).message;
    await ctx.db.transaction(async (tx) => {
      await deployments.insertDeployment(tx, { ...base, status: 'failed', error, policy_checks: decision.checks });
      await appendAudit(tx, { actor, action: 'deployment.refused', subject: id, details: { environment: env.name, release: release.canonical_id, kind, error } });
    });
    deploymentsTotal.inc({ kind, outcome: 'refused' });
    return { id };
  }
  const path = pointerPath({ environment: env.name, repository: release.repository, project: release.project });
  const content = renderPointer({
    repository: release.repository, project: release.project, environment: env.name, release: release.commit_sha,
    digest: release.oci_digest, releaseNumber: release.release_number,
    aliases: release.aliases.filter((a) => a.alias_type !== 'numeric').map((a) => a.alias),
    deploymentId: id, deployedBy: actor, deployedAt: base.deployed_at, approvedBy: decision.approvers,
  });
  const message = commitMessage({
    kind, project: release.project, environment: env.name, repository: release.repository, release: label(release),
    previous: previous ? label(previous) : null, deployedBy: actor, approvedBy: decision.approvers, deploymentId: id,
  });
  ctx.held.set(id, Date.now());
  await ctx.db.transaction(async (tx) => {
    await deployments.insertDeployment(tx, {
      ...base, status: 'pending', pointer_path: path, pointer_content: content, commit_message: message,
      lease_owner: ctx.replica, lease_ms: ctx.leaseMs,
    });
    await appendAudit(tx, { actor, action: 'deployment.requested', subject: id, details: { environment: env.name, release: release.canonical_id, kind, reason: args.reason ?? null } });
  });
  return { id, work: { id, environment: env.name, repository: release.repository, project: release.project, kind, pointer_path: path, pointer_content: content, commit_message: message } };
}

/**
 * Records that the pointer of `work` landed in `commit`: active (the previous active one
 * superseded), or superseded at once when a newer pointer commit of the same environment and
 * project was recorded first. Rollbacks pin the environment/project. Does nothing when the row
 * is no longer pending under `owner`.
 */
async function recordLanded(ctx: DeployContext, work: PendingWork, commit: string, owner: string | null, parent?: string | null): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const row = await deployments.lockPending(tx, work.id, owner);
    if (!row) return;
    await deployments.lockSlot(tx, work.environment, work.repository, work.project);
    const current = await deployments.activeDeployment(tx, work.environment, work.repository, work.project);
    const earlier = current?.gitops_commit_sha;
    const newer = earlier && earlier !== parent && !(await ctx.gitops.isAncestor(earlier, commit));
    if (newer) {
      await deployments.markSupersededOnArrival(tx, work.id, commit);
    } else {
      if (current) {
        await appendAudit(tx, { actor: row.deployed_by, action: 'deployment.superseded', subject: current.id, details: {
          environment: work.environment, repository: work.repository, project: work.project, release_number: current.release_number, superseded_by: work.id } });
      }
      await deployments.markActive(tx, work.id, commit);
      if (work.kind === 'rollback') {
        await pins.pin(tx, {
          environment: work.environment, repository: work.repository, project: work.project, pinned_by: row.deployed_by,
          reason: `rollback to release ${row.release_number}`, deployment_id: work.id,
        });
      }
    }
    deploymentsTotal.inc({ kind: work.kind, outcome: newer ? 'superseded' : 'active' });
    await appendAudit(tx, {
      actor: row.deployed_by, action: newer ? 'deployment.superseded' : 'deployment.active', subject: work.id,
      details: { environment: work.environment, repository: work.repository, project: work.project, release_number: row.release_number, gitops_commit_sha: commit },
    });
  });
}

async function recordFailed(ctx: DeployContext, work: PendingWork, owner: string | null, error: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    if (!(await deployments.markFailed(tx, work.id, owner, error))) return;
    const row = await deployments.getDeployment(tx, work.id);
    deploymentsTotal.inc({ kind: work.kind, outcome: 'failed' });
    await appendAudit(tx, { actor: row!.deployed_by, action: 'deployment.failed', subject: work.id, details: { environment: work.environment, error } });
  });
}

/**
 * Pushes the pointer of a pending deployment this replica holds and records the outcome.
 * When `recovering`, first asks the GitOps repository whether the pointer already landed (the
 * previous owner may have pushed and died before recording), so the push is never repeated
 * over a newer pointer. Answers the error that failed the deployment, if one did.
 */
export async function completeDeployment(ctx: DeployContext, work: PendingWork, recovering = false): Promise<{ failure?: Error }> {
  if (!ctx.held.has(work.id)) ctx.held.set(work.id, 0);
  try {
    if (recovering) {
      const { tip, content } = await ctx.gitops.readFile(work.pointer_path);
      const landedIn = tip ? await ctx.gitops.commitIntroducing(tip, work.pointer_path, work.id) : null;
      if (landedIn) {
        if (content?.includes(work.id)) await recordLanded(ctx, work, landedIn, ctx.replica);
        else {
          await ctx.db.transaction(async (tx) => {
            if (await deployments.lockPending(tx, work.id, ctx.replica)) await deployments.markSupersededOnArrival(tx, work.id, landedIn);
          });
        }
        return {};
      }
    }
    if (ctx.faults.pauseBeforePushMs) await sleep(ctx.faults.pauseBeforePushMs);
    const landed = await ctx.gitops.submit({ path: work.pointer_path, content: work.pointer_content, message: work.commit_message, id: work.id });
    if (ctx.faults.pauseAfterPushMs) await sleep(ctx.faults.pauseAfterPushMs);
    await recordLanded(ctx, work, landed.commit, ctx.replica, landed.parent);
    return {};
  } catch (err) {
    if (err instanceof UpdateWithdrawnError) return {}; // another replica took it over and completes it
    await recordFailed(ctx, work, ctx.replica, (err as Error).message);
    return { failure: err as Error };
  } finally {
    ctx.held.delete(work.id);
  }
}

/** The deployment as recorded; a 503 when its pointer could not be written to the GitOps repository. */
async function outcome(ctx: DeployContext, id: string, failure: Error | undefined): Promise<Deployment> {
  const d = (await deployments.getDeployment(ctx.db, id))!;
  if (d.status === 'failed' && failure instanceof ForgeError && failure.code === 'gitops_unavailable') {
    throw new ForgeError('gitops_unavailable', failure.message, { deployment: d });
  }
  return d;
}

async function deployResolved(ctx: DeployContext, principal: Principal, kind: 'deploy' | 'rollback', env: Environment, release: Release, reason: string | undefined, current: Deployment | undefined) {
  const decision = await evaluate(ctx, env, release, principal.subject, false);
  if (!decision.allowed) throw denied(env, release, decision);
  const { id, work } = await record(ctx, { kind, env, release, actor: principal.subject, reason, decision, current });
  const { failure } = await completeDeployment(ctx, work!);
  return outcome(ctx, id, failure);
}

/** POST /deployments: 201 with the outcome, or 200 with the active deployment when the release is already active. */
export async function requestDeployment(ctx: DeployContext, principal: Principal, body: DeployRequest): Promise<{ created: boolean; deployment: Deployment }> {
  if (typeof body.environment === 'string') requirePermission(principal, { kind: 'deploy', environment: body.environment });
  const { repository, project, environment } = checkTarget(ctx, body);
  if (typeof body.release !== 'string' || !body.release) throw validationError([{ path: 'release', message: 'expected a release reference (tag, number or sha)' }]);
  const release = await releases.resolveRelease(ctx.db, repository, project, body.release);
  const current = await deployments.activeDeployment(ctx.db, environment.name, repository, project);
  if (current?.release_id === release.id) return { created: false, deployment: current };
  return { created: true, deployment: await deployResolved(ctx, principal, 'deploy', environment, release, body.reason, current) };
}

/** POST /deployments/rollback: deploys the release active before the current one, and pins. */
export async function requestRollback(ctx: DeployContext, principal: Principal, body: RollbackRequest): Promise<Deployment> {
  if (typeof body.environment === 'string') requirePermission(principal, { kind: 'deploy', environment: body.environment });
  const { repository, project, environment } = checkTarget(ctx, body);
  const current = await deployments.activeDeployment(ctx.db, environment.name, repository, project);
  if (!current) {
    throw new ForgeError('conflict', `nothing to roll back: no release of ${repository}/${project} is active in ${environment.name}`);
  }
  const previousId = await deployments.previousActivation(ctx.db, environment.name, repository, project, current.release_id);
  if (!previousId) {
    throw new ForgeError('conflict', `nothing to roll back to: release ${current.release_number} is the only release of ${repository}/${project} ever active in ${environment.name}; deploy an older release by reference with "forge deploy"`);
  }
  const target = (await releases.findById(ctx.db, previousId))!;
  return deployResolved(ctx, principal, 'rollback', environment, target, body.reason, current);
}

/**
 * After a release is registered: deploys it to every environment with `auto_deploy: true`
 * (as forge:auto-deploy, through the policy and the pin). Refusals are recorded as failed
 * deployments; nothing here throws. Pushes continue in the background.
 */
export async function autoDeploy(ctx: DeployContext, release: Release): Promise<{ id: string; environment: string; status: string }[]> {
  const out: { id: string; environment: string; status: string }[] = [];
  for (const env of ctx.platform.environments.filter((e) => e.policy.autoDeploy)) {
    try {
      const current = await deployments.activeDeployment(ctx.db, env.name, release.repository, release.project);
      if (current?.release_id === release.id) continue;
      const decision = await evaluate(ctx, env, release, AUTO_DEPLOY_ACTOR, true);
      const { id, work } = await record(ctx, { kind: 'auto', env, release, actor: AUTO_DEPLOY_ACTOR, decision, current });
      out.push({ id, environment: env.name, status: work ? 'pending' : 'failed' });
      if (work) {
        const job = completeDeployment(ctx, work).finally(() => ctx.inflight.delete(job));
        ctx.inflight.add(job);
      }
    } catch (err) {
      process.stderr.write(`auto-deploy of ${release.canonical_id} to ${env.name} could not be recorded: ${(err as Error).message}\n`);
    }
  }
  return out;
}

/** POST /pins: pin an environment/project against auto-deploys. */
export async function pinProject(ctx: DeployContext, principal: Principal, body: { repository: string; project: string; environment: string; reason?: string }) {
  if (typeof body.environment === 'string') requirePermission(principal, { kind: 'deploy', environment: body.environment });
  const { repository, project, environment } = checkTarget(ctx, body);
  return ctx.db.transaction(async (tx) => {
    const pin = await pins.pin(tx, { environment: environment.name, repository, project, pinned_by: principal.subject, reason: body.reason ?? null, deployment_id: null });
    await appendAudit(tx, { actor: principal.subject, action: 'pin.set', subject: `${environment.name}/${repository}/${project}`, details: { reason: body.reason ?? null } });
    return pin;
  });
}

/** DELETE /pins/...: auto-deploys resume. 404 when it was not pinned. */
export async function unpinProject(ctx: DeployContext, principal: Principal, body: { repository: string; project: string; environment: string }) {
  requirePermission(principal, { kind: 'deploy', environment: body.environment });
  const { repository, project, environment } = checkTarget(ctx, body);
  return ctx.db.transaction(async (tx) => {
    const removed = await pins.unpin(tx, environment.name, repository, project);
    if (!removed) throw new ForgeError('not_found', `${repository}/${project} is not pinned in ${environment.name}`);
    await appendAudit(tx, { actor: principal.subject, action: 'pin.removed', subject: `${environment.name}/${repository}/${project}` });
    return removed;
  });
}
