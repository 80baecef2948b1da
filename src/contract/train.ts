/**
 * Release trains on the wire (issue #17, DESIGN.md §10): a named, immutable set of
 * `(repository, project, release)` members deployed to an environment in one GitOps commit.
 */
import { type Static, Type } from 'typebox';
import { Approval } from './approval.js';
import { Nullable, Paging } from './common.js';
import { Deployment, TrainRef } from './deployment.js';
import { SemanticDiff } from './freeze.js';
import { PolicyCheck } from './policy.js';

/** One member of `POST /trains`: a project and a release reference (tag, number or sha), resolved once, at creation. */
export const TrainMemberBody = Type.Object(
  {
    repository: Type.String({ maxLength: 201 }),
    project: Type.String({ maxLength: 63 }),
    release: Type.String({ maxLength: 256 }),
  },
  { additionalProperties: false },
);

/**
 * POST /trains. `members`: at most `trains.max_members` of the platform config (default 200),
 * each project once; a 400 names the member (`members[3]`).
 */
export const CreateTrainBody = Type.Object(
  {
    name: Type.String({ maxLength: 100 }),
    members: Type.Array(TrainMemberBody, { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);
export type CreateTrainRequest = Static<typeof CreateTrainBody>;

/** A member as resolved when the train was created: the release's id, number, commit and digest. */
export const TrainMember = Type.Object({
  repository: Type.String(),
  project: Type.String(),
  release_id: Type.String({ format: 'uuid' }),
  release_number: Type.Integer(),
  commit_sha: Type.String(),
  digest: Type.String(),
});
export type TrainMember = Static<typeof TrainMember>;

export const Train = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    created_by: Type.String(),
    created_at: Type.String(),
    /** In the order they were given. */
    members: Type.Array(TrainMember),
  },
  { $id: 'Train' },
);
export type Train = Static<typeof Train>;

/** `/trains/{train}`: a train's id or name. */
export const TrainParams = Type.Object({ train: Type.String({ maxLength: 100 }) });
export type TrainParams = Static<typeof TrainParams>;

export const TrainsQuery = Type.Object({ ...Paging.properties });
export type TrainsQuery = Static<typeof TrainsQuery>;

/** POST /trains/{train}/deployments, …/rollbacks and …/policy-checks: the environment. */
export const TrainDeployBody = Type.Object(
  {
    environment: Type.String({ maxLength: 63 }),
    reason: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type TrainDeployRequest = Static<typeof TrainDeployBody>;

/**
 * pending (its commit not pushed yet) → deployed (every member's pointer in `gitops_commit_sha`)
 * | failed (nothing pushed: refused when re-checked right before the push, or the push failed).
 */
export const TrainDeploymentStatus = Type.Union([Type.Literal('pending'), Type.Literal('deployed'), Type.Literal('failed')]);

/** One deployment of a train to an environment (or a rollback of one), and its members' deployments. */
export const TrainDeployment = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    train: TrainRef,
    environment: Type.String(),
    kind: Type.Union([Type.Literal('deploy'), Type.Literal('rollback')]),
    status: TrainDeploymentStatus,
    deployed_by: Type.String(),
    deployed_at: Type.String(),
    reason: Nullable(Type.String()),
    /** The one commit holding every member's pointer; null until it landed. */
    gitops_commit_sha: Nullable(Type.String()),
    /** A rollback: the train deployment it undid. */
    rolls_back: Nullable(Type.String({ format: 'uuid' })),
    /** Why it failed (failed only). */
    error: Type.Optional(Type.String()),
    members: Type.Array(Deployment),
  },
  { $id: 'TrainDeployment' },
);
export type TrainDeployment = Static<typeof TrainDeployment>;

/** `?environment=` filters a train's deployments. */
export const TrainDeploymentsQuery = Type.Object({ ...Paging.properties, environment: Type.Optional(Type.String({ maxLength: 63 })) });
export type TrainDeploymentsQuery = Static<typeof TrainDeploymentsQuery>;

/** One member as the policy judges it (the dry run; a refusal's details). */
export const TrainMemberCheck = Type.Object({
  repository: Type.String(),
  project: Type.String(),
  release_number: Type.Integer(),
  allowed: Type.Boolean(),
  checks: Type.Array(PolicyCheck),
});
export type TrainMemberCheck = Static<typeof TrainMemberCheck>;

/** POST /trains/{train}/policy-checks: whether the train may be deployed to the environment, member by member. */
export const TrainPolicyResult = Type.Object({
  environment: Type.String(),
  allowed: Type.Boolean(),
  members: Type.Array(TrainMemberCheck),
});
export type TrainPolicyResult = Static<typeof TrainPolicyResult>;

/** POST /trains/{train}/approvals: approves exactly the members' releases for the environment. */
export const TrainApproveBody = Type.Object(
  {
    environment: Type.String({ maxLength: 63 }),
    justification: Type.String({ maxLength: 4096 }),
  },
  { additionalProperties: false },
);
export type TrainApproveRequest = Static<typeof TrainApproveBody>;

export const TrainApprovals = Type.Object({
  /** The approvals given now, one per member release. */
  approvals: Type.Array(Approval),
  /** Members the caller had already approved for the environment (their active approval's id). */
  already_approved: Type.Array(Type.Object({ repository: Type.String(), project: Type.String(), approval_id: Type.String() })),
  /**
   * What was approved: each member judged by the environment's policy now, with these approvals,
   * as another deployer would meet it (a member a rule other than approvals refuses is named).
   */
  members: Type.Array(TrainMemberCheck),
});
export type TrainApprovals = Static<typeof TrainApprovals>;

/** GET /trains/{train}/diff/{other}: which members differ, and the semantic manifest diff of each changed one. */
export const TrainDiffParams = Type.Object({ train: Type.String({ maxLength: 100 }), other: Type.String({ maxLength: 100 }) });
export const TrainDiff = Type.Object({
  from: TrainRef,
  to: TrainRef,
  members: Type.Array(
    Type.Object({
      repository: Type.String(),
      project: Type.String(),
      change: Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('changed'), Type.Literal('unchanged')]),
      from: Nullable(TrainMember),
      to: Nullable(TrainMember),
      /** The semantic diff from `from`'s release to `to`'s (changed members only). */
      diff: Nullable(SemanticDiff),
    }),
  ),
});
export type TrainDiff = Static<typeof TrainDiff>;
