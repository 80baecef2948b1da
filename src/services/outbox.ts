/**
 * The pending-deployment lifecycle, an outbox (DESIGN.md §8): a deployment is first recorded
 * pending, under a lease held by this replica, together with the pointer file and commit
 * message it will push, so that any replica can finish it; then its pointer is pushed to the
 * GitOps repository; then the outcome is recorded: active (the previous one superseded),
 * superseded on arrival (a newer pointer commit was recorded first) or failed. Leases are
 * renewed while this replica holds the work; an expired one is claimed by recovery.ts.
 *
 * Git is never asked inside a database transaction: what git says is computed first, and the
 * transaction re-checks, with data only, that it still answers the question as it stands.
 */
import { randomUUID } from 'node:crypto';
import type { Deployment, DeploymentKind, Release } from '../contract/index.js';
import { commitMessage, type ReleaseLabel } from '../core/commit-message.js';
import { pointerPath, renderPointer } from '../core/pointer.js';
import { UpdateWithdrawnError } from '../gitops/writer.js';
import { deploymentsTotal } from '../observability/metrics.js';
import { appendAudit } from '../store/audit.js';
import type { PendingWork } from '../store/deployments.js';
import * as deployments from '../store/deployments.js';
import * as pins from '../store/pins.js';
import * as releases from '../store/releases.js';
import type { DeployContext } from './deployment-context.js';
import type { DeploymentDecision } from './deployment-policy.js';

export type OutboxContext = Pick<DeployContext, 'db' | 'gitops' | 'replica' | 'leaseMs' | 'held' | 'faults'>;

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
      details: { environment, release: release.canonical_id, kind, reason: reason ?? null },
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
 * Whether the pointer commit `commit` arrived behind a newer one: `earlier` (the active
 * deployment's commit, or null) is neither `parent` (the writer built on it) nor an ancestor of
 * `commit`. Asks git; call it outside any transaction.
 */
async function arrivedBehind(
  ctx: Pick<OutboxContext, 'gitops'>,
  earlier: string | null,
  commit: string,
  parent?: string | null,
): Promise<boolean> {
  return !!earlier && earlier !== parent && !(await ctx.gitops.isAncestor(earlier, commit));
}

/**
 * Records that the pointer of `work` landed in `commit`: active (the previous active one
 * superseded), or superseded at once when a newer pointer commit of the same environment and
 * project was recorded first. Rollbacks pin the environment/project. Does nothing when the row
 * is no longer pending under `owner`.
 *
 * Git is asked about the active deployment's commit before the transaction; inside it, under the
 * slot lock, the active commit is read again: if another replica recorded meanwhile, the answer
 * is about a stale commit, so git is asked again about the new one.
 */
async function recordLanded(
  ctx: OutboxContext,
  work: PendingWork,
  commit: string,
  owner: string | null,
  parent?: string | null,
): Promise<void> {
  for (;;) {
    const asked = (await deployments.activeDeployment(ctx.db, work.environment, work.repository, work.project))?.gitops_commit_sha ?? null;
    const newer = await arrivedBehind(ctx, asked, commit, parent);
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

async function recordFailed(ctx: Pick<OutboxContext, 'db'>, work: PendingWork, owner: string | null, error: string): Promise<void> {
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
 * Pushes the pointer of a pending deployment this replica holds and records the outcome.
 * When `recovering`, first asks the GitOps repository whether the pointer already landed (the
 * previous owner may have pushed and died before recording), so the push is never repeated
 * over a newer pointer. Answers the error that failed the deployment, if one did; a push
 * withdrawn because another replica took the lease over is no failure (that replica completes it).
 */
export async function completeDeployment(ctx: OutboxContext, work: PendingWork, recovering = false): Promise<{ failure?: Error }> {
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
    const landed = await ctx.gitops.submit({
      path: work.pointer_path,
      content: work.pointer_content,
      message: work.commit_message,
      id: work.id,
    });
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

/**
 * The writer's check before each push (GitOpsWriter `confirm`): answers which of `ids` this
 * replica still holds, renewing the leases not renewed within the last third of a lease (one
 * renewed since cannot have expired yet: no query for it).
 */
export async function confirmHeld(ctx: Pick<OutboxContext, 'db' | 'replica' | 'leaseMs' | 'held'>, ids: string[]): Promise<string[]> {
  const now = Date.now();
  const stale = ids.filter((id) => !(now - (ctx.held.get(id) ?? 0) < ctx.leaseMs / 3));
  const renewed = new Set(await deployments.renewLeases(ctx.db, stale, ctx.replica, ctx.leaseMs));
  for (const id of renewed) if (ctx.held.has(id)) ctx.held.set(id, now);
  return ids.filter((id) => renewed.has(id) || !stale.includes(id));
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
