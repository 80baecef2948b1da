/**
 * Deploying and rolling back a release train (issue #17): every member's pointer changes in ONE
 * GitOps commit, or none does.
 *
 * 1. Every member is judged by the environment's policy with the rules a single deployment
 *    meets (deployment-policy.ts `decideDeployment`, THE rule list). One refusal refuses the
 *    train: 403 `policy_denied` with each member's checks (details.members), nothing recorded
 *    but the refusal in the audit log, nothing committed.
 * 2. Each member is recorded as a pending deployment (the outbox, outbox.ts) under a lease held by
 *    this replica, tagged with the train and the train deployment (deployments.train_id,
 *    train_deployment_id), all in one transaction.
 * 3. In the writer's turn at the remote (`GitOpsWriter.change`: the database lock the replicas
 *    share, on every attempt from the tip the commit is built on), everything is checked again:
 *    each lease (renewed and locked by the turn's transaction), a newer deployment of a member
 *    already live there, and THE policy of every member. Any of these refuses the whole train
 *    (nothing pushed; every member ends `failed`, or `superseded` when a newer deployment won).
 *    Otherwise one commit holds every pointer (message: core/train.ts `trainCommitMessage`),
 *    pushed with a lease on that tip (git's compare-and-swap).
 * 4. Each member's outcome is recorded from what git holds (outbox.ts `recordLandedSurely`:
 *    active, or superseded on arrival behind a newer commit). A replica that dies between the
 *    push and the record leaves the rows pending; the recovery sweep records them from git.
 *    One that dies before the push leaves them pending too; recovery never pushes a train
 *    member alone (outbox.ts `prepareHeld` fails it): a train lands whole or not at all.
 *
 * Rollback (`rollbackTrain`) is the same with each member's target the release it ran before the
 * train's newest landed deployment to that environment, kind `rollback`: each member is pinned
 * once it lands (outbox.ts), like a single rollback.
 */
import { randomUUID } from 'node:crypto';
import type { Release, Train, TrainDeployment, TrainDeployRequest } from '../contract/index.js';
import type { ReleaseLabel } from '../core/commit-message.js';
import { ForgeError } from '../core/errors.js';
import type { Principal } from '../core/permissions.js';
import type { Environment } from '../core/platform-config.js';
import { parsePointer, pointerPath, renderPointer } from '../core/pointer.js';
import { trainCommitMessage } from '../core/train.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import type { PendingWork } from '../store/deployments.js';
import * as deployments from '../store/deployments.js';
import * as releases from '../store/releases.js';
import * as trains from '../store/trains.js';
import type { DeployContext } from './deployment-context.js';
import { decideDeployment, policyDenied } from './deployment-policy.js';
import { pointerDeployment, recordFailed, recordLandedSurely, recordStale, StaleDeploymentError } from './outbox.js';
import { type Caller, permittedIn } from './permission.js';
import { getTrain, judgeMembers, memberChecks, trainEnvironment } from './train.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const label = (r: Release): ReleaseLabel => ({
  releaseNumber: r.release_number,
  sha: r.commit_sha,
  tagAliases: r.aliases.filter((a) => a.alias_type === 'tag').map((a) => a.alias),
});

/** The members' rows were taken over by another replica (their lease expired): it ends them; nothing was pushed here. */
class TrainWithdrawnError extends ForgeError {
  constructor(id: string) {
    super(
      'conflict',
      `train deployment ${id} lost its lease before its push (another replica took it over and ends it); nothing was pushed`,
    );
  }
}

/**
 * POST /trains/{train}/deployments: deploys every member of the train to `environment` in one
 * GitOps commit (see the module comment). Answers the train deployment once its commit landed.
 * 403 `permission_denied` without `deployer:<env>`; 400/404 for the environment; 404 for the
 * train; 403 `policy_denied` (details.members: every member's checks) when the policy refuses a
 * member; 409 `conflict` when what it was decided on changed before its push; 503/502 when the
 * GitOps repository could not take it (details.train_deployment: the failed train deployment).
 */
export async function deployTrain(ctx: DeployContext, caller: Caller, ref: string, body: TrainDeployRequest): Promise<TrainDeployment> {
  const principal = permittedIn(caller, 'deploy', body.environment);
  const env = trainEnvironment(ctx, body.environment);
  const train = await getTrain(ctx, ref);
  return runTrain(
    ctx,
    principal,
    env,
    train,
    'deploy',
    train.members.map((m) => m.release_id),
    body.reason ?? null,
    null,
  );
}

/**
 * POST /trains/{train}/rollbacks: every member of the train's newest landed deployment to
 * `environment` goes back to the release it ran before the train put it there (when the train
 * was deployed again meanwhile, before its earlier deployments), in one commit, and is pinned.
 * 409 `conflict`: the train was never deployed there, its newest deployment was already rolled
 * back, a member runs another release now (deployed after the train: rolling back would undo
 * it silently), or no member ran another release before the train. Other answers as `deployTrain`.
 */
export async function rollbackTrain(ctx: DeployContext, caller: Caller, ref: string, body: TrainDeployRequest): Promise<TrainDeployment> {
  const principal = permittedIn(caller, 'deploy', body.environment);
  const env = trainEnvironment(ctx, body.environment);
  const train = await getTrain(ctx, ref);
  const landed = await trains.landedDeployments(ctx.db, train.id, env.name);
  const last = landed.ids[0];
  if (!last) throw new ForgeError('conflict', `nothing to roll back: train ${train.name} was never deployed to ${env.name}`);
  if (landed.rolledBack)
    throw new ForgeError(
      'conflict',
      `train ${train.name}'s deployment ${last} to ${env.name} was already rolled back; deploy the train again before rolling it back again`,
      { train_deployment_id: last },
    );
  const slots = await trains.memberSlots(ctx.db, last);
  // a member deployed on its own after the train runs something else now: refuse, naming it
  const moved: { repository: string; project: string; running: number | null }[] = [];
  for (const s of slots) {
    const active = await deployments.activeDeployment(ctx.db, env.name, s.repository, s.project);
    if (active?.release_id !== s.release_id)
      moved.push({ repository: s.repository, project: s.project, running: active?.release_number ?? null });
  }
  if (moved.length)
    throw new ForgeError(
      'conflict',
      `train ${train.name} no longer runs whole in ${env.name}: ${moved.map((m) => `${m.repository}/${m.project} runs ${m.running === null ? 'nothing' : `release ${m.running}`} now`).join(', ')}, deployed after the train; rolling the train back would undo that silently: roll those projects back one by one ("forge rollback"), or deploy the train again first`,
      { train_deployment_id: last, members: moved },
    );
  // Per member, the release it ran before the train: the newest deployment's previous release,
  // or, where that is the member's own release (the train deployed twice), an earlier one's. A
  // member the train did not change (it ran that release already) stays, and is pinned.
  const earlier = await Promise.all(landed.ids.slice(1).map((id) => trains.memberSlots(ctx.db, id)));
  const before = slots.map((s) => {
    for (const slot of [s, ...earlier.map((e) => e.find((x) => x.repository === s.repository && x.project === s.project))]) {
      if (slot?.previous_release_id && slot.previous_release_id !== s.release_id) return slot.previous_release_id;
    }
    return null;
  });
  if (before.every((b) => b === null))
    throw new ForgeError(
      'conflict',
      `nothing to roll back: no member of train ${train.name} ran another release in ${env.name} before its deployment ${last}; deploy an older release by reference with "forge deploy"`,
      { train_deployment_id: last, members: slots.map((s) => ({ repository: s.repository, project: s.project })) },
    );
  const targets = slots.map((s, i) => before[i] ?? s.release_id);
  return runTrain(ctx, principal, env, train, 'rollback', targets, body.reason ?? null, last);
}

interface Member {
  work: PendingWork;
  release: Release;
  deployer: string;
  approvedBy: string[];
}

async function runTrain(
  ctx: DeployContext,
  principal: Principal,
  env: Environment,
  train: Train,
  kind: 'deploy' | 'rollback',
  releaseIds: string[],
  reason: string | null,
  rollsBack: string | null,
): Promise<TrainDeployment> {
  const action = kind === 'rollback' ? 'rollback' : 'manual';
  const judged = await judgeMembers(
    ctx.db,
    env,
    releaseIds.map((release_id) => ({ release_id })),
    principal.subject,
    action,
  );
  const refused = judged.filter((j) => !j.decision.allowed);
  if (refused.length) {
    const members = memberChecks(judged);
    await ctx.db.transaction((tx) =>
      appendAudit(tx, {
        actor: principal.subject,
        action: 'train.policy_denied',
        subject: train.id,
        details: { name: train.name, environment: env.name, kind, refused: members.filter((m) => !m.allowed) },
      }),
    );
    throw new ForgeError(
      'policy_denied',
      `train ${train.name} may not be ${kind === 'rollback' ? 'rolled back in' : 'deployed to'} ${env.name}, so nothing was committed: ${refused
        .map((r) => policyDenied(env, r.release, r.decision).message)
        .join(' | ')}`,
      { members },
    );
  }

  const trainDeploymentId = randomUUID();
  const now = new Date().toISOString();
  const members: Member[] = [];
  const rows: deployments.NewDeployment[] = [];
  for (const { release, decision } of judged) {
    const current = await deployments.activeDeployment(ctx.db, env.name, release.repository, release.project);
    const id = randomUUID();
    const path = pointerPath({ environment: env.name, repository: release.repository, project: release.project });
    const content = renderPointer({
      repository: release.repository,
      project: release.project,
      environment: env.name,
      release: release.commit_sha,
      digest: release.oci_digest,
      releaseNumber: release.release_number,
      aliases: release.aliases.filter((a) => a.alias_type !== 'numeric').map((a) => a.alias),
      deploymentId: id,
      deployedBy: principal.subject,
      deployedAt: now,
      approvedBy: decision.approvers,
    });
    const memberKind = kind === 'rollback' ? ('rollback' as const) : ('deploy' as const);
    rows.push({
      id,
      release_id: release.id,
      repository: release.repository,
      project: release.project,
      environment: env.name,
      kind: memberKind,
      status: 'pending',
      deployed_by: principal.subject,
      deployed_at: now,
      reason,
      approval_ids: decision.approvalIds,
      approved_by: decision.approvers,
      previous_release_id: current?.release_id ?? null,
      pointer_path: path,
      pointer_content: content,
      commit_message: `${kind === 'rollback' ? 'Rollback' : 'Deploy'} train ${train.name} (${trainDeploymentId})`,
      break_glass_id: decision.breakGlassId,
      lease_owner: ctx.replica,
      lease_ms: ctx.leaseMs,
    });
    members.push({
      release,
      deployer: principal.subject,
      approvedBy: decision.approvers,
      work: {
        id,
        environment: env.name,
        repository: release.repository,
        project: release.project,
        kind: memberKind,
        pointer_path: path,
        pointer_content: content,
        commit_message: rows[rows.length - 1].commit_message!,
      },
    });
  }
  for (const m of members) ctx.held.set(m.work.id, Date.now());
  try {
    await ctx.db.transaction(async (tx) => {
      await trains.insertTrainDeployment(tx, {
        id: trainDeploymentId,
        train_id: train.id,
        environment: env.name,
        kind,
        deployed_by: principal.subject,
        reason,
        rolls_back: rollsBack,
      });
      for (const row of rows) await deployments.insertDeployment(tx, row);
      await trains.tagMembers(
        tx,
        rows.map((r) => r.id),
        train.id,
        trainDeploymentId,
      );
      for (const m of members)
        await appendAudit(tx, {
          actor: principal.subject,
          action: 'deployment.requested',
          subject: m.work.id,
          details: {
            environment: env.name,
            release: m.release.canonical_id,
            kind: m.work.kind,
            reason,
            train: { id: train.id, name: train.name, train_deployment_id: trainDeploymentId },
          },
        });
    });
    if (ctx.faults.pauseBeforePushMs) await sleep(ctx.faults.pauseBeforePushMs);
    const commit = await pushTrain(ctx, env, train, kind, trainDeploymentId, members, reason);
    if (ctx.faults.pauseAfterPushMs) await sleep(ctx.faults.pauseAfterPushMs);
    // Each member's slot is its own (its own lock): recorded side by side. Which of two commits
    // came first never changes, and the members mostly ask about the same commits (the one
    // before, this one): git is asked once per pair.
    const asked = new Map<string, Promise<boolean>>();
    const landing = {
      db: ctx.db,
      gitops: {
        isAncestor: (a: string, b: string) => {
          const key = `${a} ${b}`;
          if (!asked.has(key)) {
            const answer = ctx.gitops.isAncestor(a, b);
            answer.catch(() => asked.delete(key)); // a failure is asked again on the retry
            asked.set(key, answer);
          }
          return asked.get(key)!;
        },
      },
    };
    const recorded = await Promise.allSettled(members.map((m) => recordLandedSurely(landing, m.work, commit, ctx.replica)));
    // pushed: a member whose outcome could not be recorded stays pending for recovery (503 database_unavailable)
    const unrecorded = recorded.find((r) => r.status === 'rejected');
    if (unrecorded) throw unrecorded.reason;
    await ctx.db.transaction((tx) =>
      appendAudit(tx, {
        actor: principal.subject,
        action: kind === 'rollback' ? 'train.rolled_back' : 'train.deployed',
        subject: train.id,
        details: {
          name: train.name,
          environment: env.name,
          train_deployment_id: trainDeploymentId,
          gitops_commit_sha: commit,
          ...(rollsBack ? { rolls_back: rollsBack } : {}),
          members: members.map((m) => ({
            repository: m.release.repository,
            project: m.release.project,
            release_number: m.release.release_number,
            deployment_id: m.work.id,
          })),
        },
      }),
    );
    return (await trains.getTrainDeployment(ctx.db, trainDeploymentId))!;
  } finally {
    for (const m of members) ctx.held.delete(m.work.id);
  }
}

/**
 * Pushes every member's pointer in one commit (see the module comment, step 3) and answers the
 * commit. On a refusal before the push, records every member's end and throws (403
 * `policy_denied` when the policy now refuses, 409 `conflict` otherwise); on a failed push,
 * records them failed unless the commit landed after all (what the branch holds decides).
 */
async function pushTrain(
  ctx: DeployContext,
  env: Environment,
  train: Train,
  kind: 'deploy' | 'rollback',
  trainDeploymentId: string,
  members: Member[],
  reason: string | null,
): Promise<string> {
  const paths = members.map((m) => m.work.pointer_path);
  const first = members[0].work;
  try {
    const commit = await ctx.gitops.change(
      async (base, tip, session) => {
        const db = (session as Db | undefined) ?? ctx.db;
        const current = await tip.read(paths);
        if (base && current.every((c, i) => c !== null && pointerDeployment(c) === members[i].work.id)) return null; // landed already
        const stale: { member: Member; reason: string; ending: 'failed' | 'superseded'; checks?: unknown }[] = [];
        const previous: (Release | undefined)[] = [];
        for (const [i, m] of members.entries()) {
          const held = await deployments.holdPending(db, m.work.id, ctx.replica, ctx.leaseMs);
          if (!held) throw new TrainWithdrawnError(trainDeploymentId);
          if (ctx.held.has(m.work.id)) ctx.held.set(m.work.id, Date.now());
          const liveId = current[i] === null ? null : pointerDeployment(current[i]!);
          const active = await deployments.activeDeployment(db, env.name, m.work.repository, m.work.project);
          for (const newerId of [...new Set([liveId, active?.id].filter((x): x is string => !!x))]) {
            const seq = await deployments.recordedSeq(db, newerId, held);
            if (seq !== undefined && seq > held.recorded_seq) {
              stale.push({
                member: m,
                ending: 'superseded',
                reason: `a newer deployment (${newerId}) of ${m.work.repository}/${m.work.project} in ${env.name} was pushed while the train waited`,
              });
              break;
            }
          }
          const decision = await decideDeployment({ db }, env, m.release, m.deployer, false, {
            action: kind === 'rollback' ? 'rollback' : 'manual',
          });
          if (!decision.allowed)
            stale.push({
              member: m,
              ending: 'failed',
              reason: `re-checked right before the push: ${policyDenied(env, m.release, decision).message}`,
              checks: decision.checks,
            });
          let prev: Release | undefined;
          if (current[i] !== null) {
            try {
              prev = await releases.findBySha(db, m.work.repository, m.work.project, parsePointer(current[i]!).release);
            } catch {
              // not a pointer Forge can read: no previous release to name
            }
          }
          previous.push(prev);
        }
        if (stale.length) {
          const ending = stale.some((s) => s.ending === 'failed') ? 'failed' : 'superseded';
          throw new StaleDeploymentError(
            ending,
            `train ${train.name} was not pushed to ${env.name}, nothing was committed: ${stale.map((s) => s.reason).join(' | ')}`,
            {
              train_deployment_id: trainDeploymentId,
              members: stale.map((s) => ({
                repository: s.member.work.repository,
                project: s.member.work.project,
                release_number: s.member.release.release_number,
                reason: s.reason,
                ...(s.checks ? { checks: s.checks } : {}),
              })),
            },
          );
        }
        const message = trainCommitMessage({
          kind,
          train: train.name,
          trainDeploymentId,
          environment: env.name,
          actor: members[0].deployer,
          reason,
          members: members.map((m, i) => ({
            repository: m.work.repository,
            project: m.work.project,
            release: label(m.release),
            previous: previous[i] ? label(previous[i]!) : null,
            deploymentId: m.work.id,
            approvedBy: m.approvedBy,
          })),
        });
        for (const [i, m] of members.entries()) await deployments.setPrevious(db, m.work.id, previous[i]?.id ?? null, message);
        return { files: new Map(members.map((m) => [m.work.pointer_path, m.work.pointer_content])), message };
      },
      async (landed, base) => landed ?? (base ? ((await ctx.gitops.commitIntroducing(base, first.pointer_path, first.id)) ?? base) : ''),
    );
    if (!commit) throw new ForgeError('internal_error', `train deployment ${trainDeploymentId}: no commit and no tip`);
    return commit;
  } catch (err) {
    if (err instanceof TrainWithdrawnError) throw err;
    if (err instanceof StaleDeploymentError) {
      for (const m of members) await recordStale(ctx, m.work, ctx.replica, err);
      if (err.ending === 'failed') throw new ForgeError('policy_denied', err.message, err.details);
      throw err;
    }
    // The push may have landed although git answered an error: what the branch holds decides.
    const there = await ctx.gitops.readFile(first.pointer_path).catch(() => undefined);
    if (there?.tip && there.content && pointerDeployment(there.content) === first.id)
      return (await ctx.gitops.commitIntroducing(there.tip, first.pointer_path, first.id)) ?? there.tip;
    const message = (err as Error).message;
    for (const m of members) await recordFailed(ctx, m.work, ctx.replica, message);
    if (err instanceof ForgeError)
      throw new ForgeError(err.code, err.message, {
        ...err.details,
        train_deployment: await trains.getTrainDeployment(ctx.db, trainDeploymentId),
      });
    throw err;
  }
}
