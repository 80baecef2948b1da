/**
 * Release trains (issue #17): create, read, list, compare, approve and judge a train. A train
 * is a named, immutable set of `(repository, project, release)` members, each resolved once,
 * when the train is created, to a release id and digest. Deploying and rolling back is
 * train-deploy.ts. Spec: Future Enhancements — Release Composition.
 */
import { randomUUID } from 'node:crypto';
import type {
  CreateTrainRequest,
  List,
  Train,
  TrainApprovals,
  TrainApproveRequest,
  TrainDeployment,
  TrainDeploymentsQuery,
  TrainDiff,
  TrainMember,
  TrainMemberCheck,
  TrainPolicyResult,
  TrainsQuery,
} from '../contract/index.js';
import { windowOf } from '../core/cursor.js';
import { type FieldProblem, ForgeError, validationError } from '../core/errors.js';
import { isAllowed, type Principal } from '../core/permissions.js';
import { type Environment, findEnvironment } from '../core/platform-config.js';
import { checkTrainRequest, compareMembers, DEFAULT_TRAIN_MAX_MEMBERS } from '../core/train.js';
import type { ReleaseStore } from '../registry/index.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import * as releases from '../store/releases.js';
import * as trains from '../store/trains.js';
import { approve } from './approve.js';
import type { PlatformContext } from './deployment-context.js';
import { decideDeployment } from './deployment-policy.js';
import { type Caller, permittedIn, requirePermission } from './permission.js';
import { semanticDiffOf } from './release-diff.js';

/** The most members a train may have here (`trains.max_members`, default 200). */
export const maxMembers = (ctx: PlatformContext) => ctx.platform.trains?.maxMembers ?? DEFAULT_TRAIN_MAX_MEMBERS;

/** 403 `permission_denied` unless `principal` is an operator or holds some `deployer:<env>` role. */
export function requireTrainCreator(principal: Principal): void {
  if (isAllowed(principal, { kind: 'admin' }) || principal.roles.some((r) => r.startsWith('deployer:'))) return;
  throw new ForgeError(
    'permission_denied',
    `${principal.subject} may not do this: it needs the operator role or a deployer:<environment> role`,
    {
      required: 'the operator role or a deployer:<environment> role',
      roles: principal.roles,
    },
  );
}

/**
 * POST /trains: resolves every member's release reference now (once: the train keeps the
 * release id and digest) and records the train, audited `train.created`. 403 without the
 * operator or a deployer role; 400 `validation_error` naming each bad member (`members[3].release`
 * for a release that does not exist, `members[3]` for a project named twice,
 * `members[<max>]` past `trains.max_members`); 409 `conflict` when the name is taken.
 */
export async function createTrain(ctx: PlatformContext, principal: Principal, body: CreateTrainRequest): Promise<Train> {
  requireTrainCreator(principal);
  const wanted = checkTrainRequest(body, maxMembers(ctx));
  const problems: FieldProblem[] = [];
  const members: TrainMember[] = [];
  for (const [i, m] of wanted.entries()) {
    try {
      const r = await releases.resolveRelease(ctx.db, m.repository, m.project, m.release);
      members.push({
        repository: r.repository,
        project: r.project,
        release_id: r.id,
        release_number: r.release_number,
        commit_sha: r.commit_sha,
        digest: r.oci_digest,
      });
    } catch (err) {
      if (!(err instanceof ForgeError) || (err.code !== 'not_found' && err.code !== 'ambiguous_reference')) throw err;
      problems.push({ path: `members[${i}].release`, message: err.message });
    }
  }
  if (problems.length) throw validationError(problems);
  const id = randomUUID();
  await ctx.db.transaction(async (tx) => {
    if (!(await trains.insertTrain(tx, { id, name: body.name, created_by: principal.subject, members }))) {
      throw new ForgeError('conflict', `a train named "${body.name}" already exists; trains are immutable: give the new one another name`);
    }
    await appendAudit(tx, {
      actor: principal.subject,
      action: 'train.created',
      subject: id,
      details: {
        name: body.name,
        members: members.map((m) => ({ repository: m.repository, project: m.project, release_number: m.release_number, digest: m.digest })),
      },
    });
  });
  return (await trains.findTrain(ctx.db, id))!;
}

/** The train named, or with the id, `ref`; 404 `not_found` when there is none. */
export async function getTrain(ctx: { db: Db }, ref: string): Promise<Train> {
  const t = await trains.findTrain(ctx.db, ref);
  if (!t) throw new ForgeError('not_found', `no train named or with the id "${ref}"`);
  return t;
}

/** GET /trains: newest first, `limit` after `cursor` (a train's seq), else after `offset`. 400 for a cursor this list did not give. */
export async function listTrains(ctx: { db: Db }, q: TrainsQuery): Promise<List<Train>> {
  const { limit, offset, after } = windowOf(q, ['integer']);
  return { ...(await trains.listTrains(ctx.db, limit, offset, after?.[0] as number | undefined)), limit, offset };
}

/**
 * GET /trains/{train}/deployments: its deployments and rollbacks, newest first, optionally to one
 * environment; `limit` after `cursor`, else after `offset`. 400 for a cursor this list did not give.
 */
export async function listTrainDeployments(ctx: { db: Db }, ref: string, q: TrainDeploymentsQuery): Promise<List<TrainDeployment>> {
  const { limit, offset, after } = windowOf(q, ['integer']);
  const t = await getTrain(ctx, ref);
  return {
    ...(await trains.listTrainDeployments(ctx.db, t.id, q.environment, limit, offset, after?.[0] as number | undefined)),
    limit,
    offset,
  };
}

/** The configured environment `name`: 400 when it is not a name, 404 naming the known ones when it is not configured. */
export function trainEnvironment(ctx: PlatformContext, name: unknown): Environment {
  if (typeof name !== 'string' || !name) throw validationError([{ path: 'environment', message: 'expected an environment name' }]);
  const env = findEnvironment(ctx.platform, name);
  if (!env)
    throw new ForgeError(
      'not_found',
      `environment "${name}" is not configured; known environments: ${ctx.platform.environments.map((e) => e.name).join(', ')}`,
    );
  return env;
}

/**
 * Every member judged by `env`'s policy with the rules a single deployment meets
 * (deployment-policy.ts `decideDeployment`), as deployed by `deployer`; `action` for the
 * freeze rule (`manual`, or `rollback`). Reads `db` (the turn's transaction when re-checking).
 */
export async function judgeMembers(
  db: Db,
  env: Environment,
  members: { release_id: string }[],
  deployer: string,
  action: 'manual' | 'rollback' = 'manual',
) {
  const out = [];
  for (const m of members) {
    const release = await releases.findById(db, m.release_id);
    if (!release) throw new ForgeError('internal_error', `release ${m.release_id} of a train member is gone`);
    const decision = await decideDeployment({ db }, env, release, deployer, false, { action });
    out.push({ release, decision });
  }
  return out;
}

/** How a refusal and the dry run name each member's verdict. */
export function memberChecks(judged: Awaited<ReturnType<typeof judgeMembers>>): TrainMemberCheck[] {
  return judged.map(({ release, decision }) => ({
    repository: release.repository,
    project: release.project,
    release_number: release.release_number,
    allowed: decision.allowed,
    checks: decision.checks,
  }));
}

/**
 * POST /trains/{train}/policy-checks, the dry run: whether the train may be deployed to the
 * environment now by `principal` (any role may ask, as for `POST /policy-checks`), and every
 * member's checks; nothing is recorded.
 */
export async function checkTrain(ctx: PlatformContext, principal: Principal, ref: string, environment: string): Promise<TrainPolicyResult> {
  const env = trainEnvironment(ctx, environment);
  const t = await getTrain(ctx, ref);
  const members = memberChecks(await judgeMembers(ctx.db, env, t.members, principal.subject));
  return { environment: env.name, allowed: members.every((m) => m.allowed), members };
}

/**
 * POST /trains/{train}/approvals: approves exactly the train's member releases (each by its
 * digest) for the environment, one approval per release, as `POST /approvals` would (each still
 * counts for its release alone, in any deployment of it). Members the caller already approved
 * there are listed, not approved twice. Answers too every member's checks now, as another
 * deployer would meet them. Audited `train.approved`. Needs `approver:<env>`.
 */
export async function approveTrain(
  ctx: PlatformContext & { store?: ReleaseStore },
  caller: Caller,
  ref: string,
  body: TrainApproveRequest,
): Promise<TrainApprovals> {
  const principal = permittedIn(caller, 'approve', body.environment);
  const env = trainEnvironment(ctx, body.environment);
  requirePermission(principal, { kind: 'approve', environment: env.name });
  if (!body.justification?.trim())
    throw validationError([
      { path: 'justification', message: 'an approval needs a justification: say why this train may go to this environment' },
    ]);
  const t = await getTrain(ctx, ref);
  const given: TrainApprovals['approvals'] = [];
  const already: TrainApprovals['already_approved'] = [];
  for (const m of t.members) {
    try {
      given.push(
        await approve(ctx, principal, {
          repository: m.repository,
          project: m.project,
          environment: env.name,
          release: m.commit_sha,
          digest: m.digest,
          justification: `${body.justification.trim()} (train ${t.name})`,
        }),
      );
    } catch (err) {
      const id = err instanceof ForgeError && err.code === 'conflict' ? (err.details?.approval_id as string | undefined) : undefined;
      if (!id) throw err;
      already.push({ repository: m.repository, project: m.project, approval_id: id });
    }
  }
  await ctx.db.transaction((tx) =>
    appendAudit(tx, {
      actor: principal.subject,
      action: 'train.approved',
      subject: t.id,
      details: {
        name: t.name,
        environment: env.name,
        approval_ids: given.map((a) => a.id),
        already_approved: already.map((a) => a.approval_id),
      },
    }),
  );
  // what the approver approved, judged now as any other deployer would meet it (issue #17 review:
  // an approval was given blind, also to a release the policy refuses for another reason)
  const members = memberChecks(await judgeMembers(ctx.db, env, t.members, APPROVAL_PREVIEW_DEPLOYER));
  return { approvals: given, already_approved: already, members };
}

/** The deployer the approval preview judges with: not the approver, whose own approval would not count. */
const APPROVAL_PREVIEW_DEPLOYER = 'forge:approval-preview';

/**
 * GET /trains/{train}/diff/{other}: which members differ between the two trains (added,
 * removed, changed release, unchanged), with the semantic manifest diff (release-diff.ts) of
 * each changed one, from `train`'s release to `other`'s.
 */
export async function diffTrains(ctx: { db: Db; store: ReleaseStore }, ref: string, other: string): Promise<TrainDiff> {
  const a = await getTrain(ctx, ref);
  const b = await getTrain(ctx, other);
  const members = [];
  for (const c of compareMembers(a.members, b.members)) {
    let diff = null;
    if (c.change === 'changed') {
      const [x, y] = await Promise.all([releases.findById(ctx.db, c.from!.release_id), releases.findById(ctx.db, c.to!.release_id)]);
      diff = await semanticDiffOf(ctx.store, x!, y!);
    }
    members.push({ ...c, diff });
  }
  return { from: { id: a.id, name: a.name }, to: { id: b.id, name: b.name }, members };
}
