/**
 * The pending-deployment lifecycle, an outbox (DESIGN.md §8): a deployment is first recorded
 * pending, under a lease held by this replica, together with the pointer file and commit
 * message it will push, so that any replica can finish it; then its pointer is pushed to the
 * GitOps repository; then the outcome is recorded from what git holds: active (the previous
 * one superseded), superseded on arrival (a newer pointer commit was built on it) or failed
 * (nothing landed). Leases are renewed while this replica holds the work; an expired one is
 * claimed by recovery.ts.
 *
 * Right before the commit is built, inside the turn at the remote (`prepareHeld`), everything
 * the deployment was decided on is checked again against the tip it will be built on: the
 * lease, THE policy rule list (pins, approvals, and any rule added to it), a newer deployment
 * already live there; and "previous release" is read from that tip.
 *
 * Git is never asked inside a recording transaction: what git says is computed first, and the
 * transaction re-checks, with data only, that it still answers the question as it stands.
 */
import { randomUUID } from 'node:crypto';
import type { Deployment, DeploymentKind, Release } from '../contract/index.js';
import { commitMessage, type ReleaseLabel } from '../core/commit-message.js';
import { ForgeError } from '../core/errors.js';
import { parsePointer, pointerPath, renderPointer } from '../core/pointer.js';
import { type Prepared, type PrepareItem, UpdateWithdrawnError } from '../gitops/writer.js';
import { deploymentsTotal } from '../observability/metrics.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import type { PendingWork } from '../store/deployments.js';
import * as deployments from '../store/deployments.js';
import * as pins from '../store/pins.js';
import * as releases from '../store/releases.js';
import type { DeployContext } from './deployment-context.js';
import { type DeploymentDecision, decideDeployment, policyDenied } from './deployment-policy.js';

export type OutboxContext = Pick<DeployContext, 'db' | 'gitops' | 'replica' | 'leaseMs' | 'held' | 'faults' | 'platform'>;

/** What recording a landed pointer needs: the database, and git's answer to which commit came first. */
export type LandingContext = Pick<OutboxContext, 'db'> & { gitops: Pick<OutboxContext['gitops'], 'isAncestor'> };

/** A deployment about to be recorded. */
export interface NewDeploymentRequest {
  kind: DeploymentKind;
  environment: string;
  release: Release;
  actor: string;
  reason?: string;
  decision: DeploymentDecision;
  /** The active deployment it replaces, if any. */
  current?: Deployment;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function label(r: Release): ReleaseLabel {
  return {
    releaseNumber: r.release_number,
    sha: r.commit_sha,
    tagAliases: r.aliases.filter((a) => a.alias_type === 'tag').map((a) => a.alias),
  };
}

async function rowOf(ctx: Pick<OutboxContext, 'db'>, req: NewDeploymentRequest) {
  const previous = req.current ? await releases.findById(ctx.db, req.current.release_id) : undefined;
  const { release, decision } = req;
  return {
    previous,
    row: {
      id: randomUUID(),
      release_id: release.id,
      repository: release.repository,
      project: release.project,
      environment: req.environment,
      kind: req.kind,
      deployed_by: req.actor,
      deployed_at: new Date().toISOString(),
      reason: req.reason ?? null,
      approval_ids: decision.approvalIds,
      approved_by: decision.approvers,
      previous_release_id: previous?.id ?? null,
      break_glass_id: decision.breakGlassId,
    },
  };
}

/** Records a deployment the policy refused (an auto-deploy's refusal is kept as a failed deployment, with its checks); answers its id. */
export async function recordRefused(ctx: Pick<OutboxContext, 'db'>, req: NewDeploymentRequest, error: string): Promise<string> {
  const { row } = await rowOf(ctx, req);
  await ctx.db.transaction(async (tx) => {
    await deployments.insertDeployment(tx, { ...row, status: 'failed', error, policy_checks: req.decision.checks });
    await appendAudit(tx, {
      actor: req.actor,
      action: 'deployment.refused',
      subject: row.id,
      details: { environment: req.environment, release: req.release.canonical_id, kind: req.kind, error },
    });
  });
  deploymentsTotal.inc({ kind: req.kind, outcome: 'refused' });
  return row.id;
}

/**
 * Records a pending deployment under a lease held by this replica, with the pointer file and the
 * commit message it will push; answers the work item `completeDeployment` takes.
 */
export async function recordPending(ctx: OutboxContext, req: NewDeploymentRequest): Promise<PendingWork> {
  const { row, previous } = await rowOf(ctx, req);
  const { release, decision, kind, environment, actor, reason } = req;
  const { id } = row;
  const path = pointerPath({ environment, repository: release.repository, project: release.project });
  const content = renderPointer({
    repository: release.repository,
    project: release.project,
    environment,
    release: release.commit_sha,
    digest: release.oci_digest,
    releaseNumber: release.release_number,
    aliases: release.aliases.filter((a) => a.alias_type !== 'numeric').map((a) => a.alias),
    deploymentId: id,
    deployedBy: actor,
    deployedAt: row.deployed_at,
    approvedBy: decision.approvers,
  });
  const message = commitMessage({
    kind,
    project: release.project,
    environment,
    repository: release.repository,
    release: label(release),
    previous: previous ? label(previous) : null,
    deployedBy: actor,
    approvedBy: decision.approvers,
    deploymentId: id,
    reason,
  });
  ctx.held.set(id, Date.now());
  await ctx.db.transaction(async (tx) => {
    await deployments.insertDeployment(tx, {
      ...row,
      status: 'pending',
      pointer_path: path,
      pointer_content: content,
      commit_message: message,
      lease_owner: ctx.replica,
      lease_ms: ctx.leaseMs,
    });
    await appendAudit(tx, {
      actor,
      action: 'deployment.requested',
      subject: id,
      details: { environment, release: release.canonical_id, kind, reason: reason ?? null, break_glass_id: decision.breakGlassId },
    });
  });
  return {
    id,
    environment,
    repository: release.repository,
    project: release.project,
    kind,
    pointer_path: path,
    pointer_content: content,
    commit_message: message,
  };
}

/**
 * Whether the pointer commit `commit` arrived behind a newer one: `later` (the active
 * deployment's commit, or null) was built on it. A commit git no longer has in the branch's
 * history (rewritten outside Forge) says nothing about order: the pointer just pushed on the
 * tip is the one that runs. Asks git; call it outside any transaction.
 */
async function arrivedBehind(ctx: Pick<LandingContext, 'gitops'>, later: string | null, commit: string): Promise<boolean> {
  return !!later && later !== commit && (await ctx.gitops.isAncestor(commit, later));
}

/**
 * Records that the pointer of `work` landed in `commit`: active (the previous active one
 * superseded), or superseded at once when a newer pointer commit of the same environment and
 * project, built on this one, was recorded first. Rollbacks pin the environment/project. Does
 * nothing when the row is no longer pending under `owner`.
 *
 * Git is asked about the active deployment's commit before the transaction; inside it, under the
 * slot lock, the active commit is read again: if another replica recorded meanwhile, the answer
 * is about a stale commit, so git is asked again about the new one.
 */
async function recordLanded(ctx: LandingContext, work: PendingWork, commit: string, owner: string | null): Promise<void> {
  for (;;) {
    const asked = (await deployments.activeDeployment(ctx.db, work.environment, work.repository, work.project))?.gitops_commit_sha ?? null;
    const newer = await arrivedBehind(ctx, asked, commit);
    const settled = await ctx.db.transaction(async (tx) => {
      const row = await deployments.lockPending(tx, work.id, owner);
      if (!row) return true;
      await deployments.lockSlot(tx, work.environment, work.repository, work.project);
      const current = await deployments.activeDeployment(tx, work.environment, work.repository, work.project);
      if ((current?.gitops_commit_sha ?? null) !== asked) return false;
      if (newer) {
        await deployments.markSupersededOnArrival(tx, work.id, commit);
      } else {
        if (current) {
          await appendAudit(tx, {
            actor: row.deployed_by,
            action: 'deployment.superseded',
            subject: current.id,
            details: {
              environment: work.environment,
              repository: work.repository,
              project: work.project,
              release_number: current.release_number,
              superseded_by: work.id,
            },
          });
        }
        await deployments.markActive(tx, work.id, commit);
        if (work.kind === 'rollback') {
          await pins.pin(tx, {
            environment: work.environment,
            repository: work.repository,
            project: work.project,
            pinned_by: row.deployed_by,
            reason: `rollback to release ${row.release_number}`,
            deployment_id: work.id,
          });
        }
      }
      deploymentsTotal.inc({ kind: work.kind, outcome: newer ? 'superseded' : 'active' });
      await appendAudit(tx, {
        actor: row.deployed_by,
        action: newer ? 'deployment.superseded' : 'deployment.active',
        subject: work.id,
        details: {
          environment: work.environment,
          repository: work.repository,
          project: work.project,
          release_number: row.release_number,
          gitops_commit_sha: commit,
        },
      });
      return true;
    });
    if (settled) return;
  }
}

/**
 * `recordLanded`, retried with backoff while the database fails (a connection killed, a
 * failover): once the pointer is pushed, the only true outcomes are active or superseded, so a
 * failure here never records `failed`. Throws 503 `database_unavailable` when the database
 * stays down; the row stays pending and the recovery sweep records it from git once its lease
 * expires.
 */
export async function recordLandedSurely(ctx: LandingContext, work: PendingWork, commit: string, owner: string | null): Promise<void> {
  const attempts = 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return await recordLanded(ctx, work, commit, owner);
    } catch (err) {
      if (attempt >= attempts) {
        throw new ForgeError(
          'database_unavailable',
          `deployment ${work.id} landed in GitOps commit ${commit}, but its outcome could not be recorded (${(err as Error).message}); it stays pending and a recovery sweep records it from the GitOps repository once its lease expires`,
          { deployment_id: work.id, gitops_commit_sha: commit },
        );
      }
      await sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt));
    }
  }
}

export async function recordFailed(ctx: Pick<OutboxContext, 'db'>, work: PendingWork, owner: string | null, error: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    if (!(await deployments.markFailed(tx, work.id, owner, error))) return;
    const row = await deployments.getDeployment(tx, work.id);
    deploymentsTotal.inc({ kind: work.kind, outcome: 'failed' });
    await appendAudit(tx, {
      actor: row!.deployed_by,
      action: 'deployment.failed',
      subject: work.id,
      details: { environment: work.environment, error },
    });
  });
}

/**
 * The deployment was not pushed: what it was decided on changed before its push (re-checked in
 * `prepareHeld`). `status` is how it ends: superseded by a newer live deployment, or failed
 * because the policy now refuses it (`ending`).
 */
export class StaleDeploymentError extends ForgeError {
  constructor(
    readonly ending: 'superseded' | 'failed',
    message: string,
    details?: Record<string, unknown>,
  ) {
    super('conflict', message, details);
    this.name = 'StaleDeploymentError';
  }
}

export async function recordStale(ctx: Pick<OutboxContext, 'db'>, work: PendingWork, owner: string | null, err: StaleDeploymentError) {
  await ctx.db.transaction(async (tx) => {
    if (!(await deployments.markStale(tx, work.id, owner, err.ending, err.message))) return;
    const row = await deployments.getDeployment(tx, work.id);
    deploymentsTotal.inc({ kind: work.kind, outcome: err.ending === 'failed' ? 'refused' : 'superseded' });
    await appendAudit(tx, {
      actor: row!.deployed_by,
      action: err.ending === 'failed' ? 'deployment.refused' : 'deployment.superseded',
      subject: work.id,
      details: { environment: work.environment, repository: work.repository, project: work.project, error: err.message, before_push: true },
    });
  });
}

/**
 * Pushes the pointer of a pending deployment this replica holds and records the outcome from
 * what git holds. When `recovering`, first asks the GitOps repository whether the pointer
 * already landed (the previous owner may have pushed and died before recording), so the push is
 * never repeated over a newer pointer. Answers the error that failed the deployment, if one
 * did; a push withdrawn because another replica took the lease over is no failure (that replica
 * completes it). A push whose outcome could not be recorded throws (503
 * `database_unavailable`), leaving the row pending for recovery: it is never recorded failed.
 */
export async function completeDeployment(ctx: OutboxContext, work: PendingWork, recovering = false): Promise<{ failure?: Error }> {
  if (!ctx.held.has(work.id)) ctx.held.set(work.id, 0);
  let landed: string | undefined;
  try {
    if (recovering) {
      const { tip, content } = await ctx.gitops.readFile(work.pointer_path);
      const landedIn = tip ? await ctx.gitops.commitIntroducing(tip, work.pointer_path, work.id) : null;
      if (landedIn) {
        if (content?.includes(work.id)) await recordLandedSurely(ctx, work, landedIn, ctx.replica);
        else {
          await ctx.db.transaction(async (tx) => {
            if (await deployments.lockPending(tx, work.id, ctx.replica)) await deployments.markSupersededOnArrival(tx, work.id, landedIn);
          });
        }
        return {};
      }
    }
    if (ctx.faults.pauseBeforePushMs) await sleep(ctx.faults.pauseBeforePushMs);
    const pushed = await ctx.gitops.submit({
      path: work.pointer_path,
      content: work.pointer_content,
      message: work.commit_message,
      id: work.id,
    });
    landed = pushed.commit;
    if (ctx.faults.pauseAfterPushMs) await sleep(ctx.faults.pauseAfterPushMs);
    await recordLandedSurely(ctx, work, landed, ctx.replica);
    return {};
  } catch (err) {
    if (err instanceof UpdateWithdrawnError) return {}; // another replica took it over and completes it
    if (landed !== undefined) throw err; // pushed: never recorded failed; recovery records it from git
    if (err instanceof StaleDeploymentError) {
      await recordStale(ctx, work, ctx.replica, err);
      return { failure: err };
    }
    // The push may have landed although git answered an error (the connection dropped after the
    // remote took it): what the branch holds decides.
    const there = await ctx.gitops.readFile(work.pointer_path).catch(() => undefined);
    if (there?.tip && there.content && pointerDeployment(there.content) === work.id) {
      const commit = (await ctx.gitops.commitIntroducing(there.tip, work.pointer_path, work.id)) ?? there.tip;
      await recordLandedSurely(ctx, work, commit, ctx.replica);
      return {};
    }
    await recordFailed(ctx, work, ctx.replica, (err as Error).message);
    return { failure: err as Error };
  } finally {
    ctx.held.delete(work.id);
  }
}

/** The deployment id a pointer file names, or null when it is not a valid pointer. */
export function pointerDeployment(text: string): string | null {
  try {
    return parsePointer(text).deploymentId;
  } catch {
    return null;
  }
}

/**
 * The writer's check inside the turn at the remote, right before the commit is built on `base`
 * (GitOpsWriter `prepare`). For each pending deployment: withdrawn unless this replica still
 * holds its lease (renewed, and its row locked by `session`, the transaction holding the turn,
 * so no replica can take it over before the push ends); landed when the pointer at `base` is
 * already its own; superseded when the pointer at `base` was written by a deployment recorded
 * after it; failed when its environment is gone or THE policy rule list, evaluated again now
 * (pins, approvals, any rule added since), refuses it. Otherwise written, with a commit message
 * whose "previous release" is the one the pointer at `base` names (recorded on the row too).
 */
export async function prepareHeld(
  ctx: OutboxContext,
  base: string | null,
  items: PrepareItem[],
  session: unknown,
): Promise<Map<string, Prepared>> {
  const db = (session as Db | undefined) ?? ctx.db;
  const out = new Map<string, Prepared>();
  const now = Date.now();
  for (const item of items) {
    const row = await deployments.holdPending(db, item.id, ctx.replica, ctx.leaseMs);
    if (!row) {
      out.set(item.id, { action: 'withdrawn' });
      continue;
    }
    if (ctx.held.has(item.id)) ctx.held.set(item.id, now);
    const liveId = item.current === null ? null : pointerDeployment(item.current);
    if (base && liveId === item.id) {
      out.set(item.id, { action: 'landed', commit: (await ctx.gitops.commitIntroducing(base, item.path, item.id)) ?? base });
      continue;
    }
    // A train's member (issue #17) is pushed only with the others, in the train's one commit
    // (train-deploy.ts): one that reaches the queue alone (recovered after its replica died
    // before the push) is never pushed alone.
    const train = row.train_deployment_id;
    if (train) {
      out.set(item.id, {
        action: 'refused',
        error: new StaleDeploymentError(
          'failed',
          `train deployment ${train} was interrupted before its commit; a train's members are pushed together or not at all, so nothing was pushed: deploy the train again`,
          { train_deployment_id: train },
        ),
      });
      continue;
    }
    const release = (await releases.findById(db, row.release_id))!;
    const env = ctx.platform.environments.find((e) => e.name === row.environment);
    if (!env) {
      out.set(item.id, {
        action: 'refused',
        error: new StaleDeploymentError('failed', `environment "${row.environment}" is no longer configured; nothing was pushed`),
      });
      continue;
    }
    // A newer decision already runs: the pointer at the tip, or the active row, was recorded after this one.
    const active = await deployments.activeDeployment(db, row.environment, row.repository, row.project);
    for (const newerId of [...new Set([liveId, active?.id].filter((x): x is string => !!x))]) {
      const liveSeq = await deployments.recordedSeq(db, newerId, row);
      if (liveSeq !== undefined && liveSeq > row.recorded_seq) {
        out.set(item.id, {
          action: 'refused',
          error: new StaleDeploymentError(
            'superseded',
            `a newer deployment (${newerId}) of ${row.repository}/${row.project} in ${row.environment} was pushed while this one waited; release ${release.release_number} was not pushed over it`,
            { superseded_by: newerId },
          ),
        });
        break;
      }
    }
    if (out.has(item.id)) continue;
    const decision = await decideDeployment({ db }, env, release, row.deployed_by, row.kind === 'auto', {
      action: row.kind === 'rollback' ? 'rollback' : row.kind === 'auto' ? 'auto' : 'manual',
    });
    if (!decision.allowed) {
      const denied = policyDenied(env, release, decision);
      out.set(item.id, {
        action: 'refused',
        error: new StaleDeploymentError('failed', `re-checked right before the push: ${denied.message}`, { checks: decision.checks }),
      });
      continue;
    }
    let previous: Release | undefined;
    if (item.current !== null) {
      try {
        const p = parsePointer(item.current);
        previous = await releases.findBySha(db, row.repository, row.project, p.release);
      } catch {
        // not a pointer Forge can read: no previous release to name
      }
    }
    const message = commitMessage({
      kind: row.kind,
      project: row.project,
      environment: row.environment,
      repository: row.repository,
      release: label(release),
      previous: previous ? label(previous) : null,
      deployedBy: row.deployed_by,
      approvedBy: row.approved_by,
      deploymentId: row.id,
      reason: row.reason,
    });
    await deployments.setPrevious(db, row.id, previous?.id ?? null, message);
    const content = (await deployments.pointerOf(db, row.id)) ?? '';
    out.set(item.id, { action: 'write', content, message });
  }
  return out;
}

/** Renews the leases of every held deployment every third of a lease (at least 50 ms); answers the function that stops it. */
export function startLeaseRenewal(ctx: Pick<OutboxContext, 'db' | 'replica' | 'leaseMs' | 'held'>): () => void {
  const timer = setInterval(
    () => {
      if (!ctx.held.size) return;
      const now = Date.now();
      deployments.renewLeases(ctx.db, [...ctx.held.keys()], ctx.replica, ctx.leaseMs).then(
        (ids) => {
          for (const id of ids) if (ctx.held.has(id)) ctx.held.set(id, now);
        },
        () => {
          // the next tick, or the writer's confirm before its push, tries again
        },
      );
    },
    Math.max(50, Math.floor(ctx.leaseMs / 3)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
