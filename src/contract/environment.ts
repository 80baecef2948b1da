/** GET /environments on the wire (DESIGN.md §7, §10): each environment's policy and what runs there per project. */
import { type Static, Type } from 'typebox';
import { ClusterStatus } from './cluster.js';
import { ListOf, Nullable, Paging } from './common.js';
import { DeploymentKind, TrainRef } from './deployment.js';
import { Alias } from './release.js';

/** The active deployment of one project in an environment, with what the matrix shows of its release. */
export const EnvironmentDeployment = Type.Object({
  repository: Type.String(),
  project: Type.String(),
  release_id: Type.String(),
  release_number: Type.Integer(),
  commit_sha: Type.String(),
  aliases: Type.Array(Alias),
  deployment_id: Type.String(),
  kind: DeploymentKind,
  deployed_by: Type.String(),
  deployed_at: Type.String(),
  gitops_commit_sha: Nullable(Type.String()),
  pinned: Type.Boolean(),
  /** The release train that put this release here (issue #17), null when a single deployment did. */
  train: Type.Optional(Nullable(TrainRef)),
  /** Argo CD's view of the slot; null until Argo CD reported (issue 15). */
  cluster: Type.Optional(Nullable(ClusterStatus)),
});
export type EnvironmentDeployment = Static<typeof EnvironmentDeployment>;

/** An environment's promotion policy (the platform config, DESIGN.md §7), durations in seconds. */
export const PromotionPolicy = Type.Object({
  allowed_triggers: Type.Array(Type.String()),
  allowed_branches: Type.Array(Type.String()),
  auto_deploy: Type.Boolean(),
  requires_approval: Type.Boolean(),
  approvals: Type.Object({ required: Type.Integer(), expires_after_seconds: Type.Integer(), allow_self_approval: Type.Boolean() }),
  /** Verification gates (issue 15): healthy in each environment, continuously, this long. */
  requires: Type.Optional(Type.Array(Type.Object({ environment: Type.String(), healthy_for_seconds: Type.Number() }))),
  /** Automatic rollback (issue 15); absent: never. */
  auto_rollback: Type.Optional(Type.Object({ on: Type.Array(Type.String()), within_seconds: Type.Number() })),
});
export type PromotionPolicy = Static<typeof PromotionPolicy>;

export const Environment = Type.Object({
  name: Type.String(),
  promotion_policy: PromotionPolicy,
  deployments: Type.Array(EnvironmentDeployment),
});
export type Environment = Static<typeof Environment>;

/** An environment name as the platform config allows it (a DNS label). */
export const EnvironmentName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' });

/**
 * GET /environments: a page of environments (one item per environment, in the platform config's
 * order: `limit` after `cursor`, the `next` of the previous page, else after `offset`), or only
 * `environment`; their deployments optionally of one repository/project.
 */
export const EnvironmentsQuery = Type.Object({
  ...Paging.properties,
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  environment: Type.Optional(EnvironmentName),
  repository: Type.Optional(Type.String({ maxLength: 201 })),
  project: Type.Optional(Type.String({ maxLength: 63 })),
});
export type EnvironmentsQuery = Static<typeof EnvironmentsQuery>;

/** A page of GET /environments: `next` is the cursor of the following page, null on the last. */
export const EnvironmentsPage = Type.Object({ ...ListOf(Environment).properties, next: Nullable(Type.String()) });
export type EnvironmentsPage = Static<typeof EnvironmentsPage>;

/** POST /environments/:env/rename and /retire: the environment named in the path. */
export const EnvironmentParams = Type.Object({ env: EnvironmentName });
export type EnvironmentParams = Static<typeof EnvironmentParams>;

/** POST /environments/:env/rename: the name it now has in the platform config. */
export const EnvironmentRenameBody = Type.Object(
  { new_name: EnvironmentName, reason: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);
export type EnvironmentRenameBody = Static<typeof EnvironmentRenameBody>;

/** POST /environments/:env/retire. */
export const EnvironmentRetireBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);
export type EnvironmentRetireBody = Static<typeof EnvironmentRetireBody>;

/**
 * What renaming or retiring an environment did (issue #12 item 4): the pointer files moved
 * (`to` null: deleted) in one GitOps commit, and the deployment records moved or retired.
 * `changed` false: there was nothing left to do (already done).
 */
export const EnvironmentChange = Type.Object({
  action: Type.Union([Type.Literal('rename'), Type.Literal('retire')]),
  environment: Type.String(),
  new_name: Nullable(Type.String()),
  changed: Type.Boolean(),
  /** The commit that moved or deleted the pointers; null when none was needed. */
  gitops_commit_sha: Nullable(Type.String()),
  pointers: Type.Array(Type.Object({ from: Type.String(), to: Nullable(Type.String()) })),
  /** Deployment records moved to the new name (rename) or ended `retired` (retire). */
  deployments: Type.Integer(),
});
export type EnvironmentChange = Static<typeof EnvironmentChange>;

/** A pointer or active deployment of an environment the platform config no longer has. */
export const OrphanedSlot = Type.Object({
  environment: Type.String(),
  repository: Type.String(),
  project: Type.String(),
  /** The pointer file. */
  path: Type.String(),
  /** Whether the pointer is still in the GitOps repository (Argo CD keeps running it). */
  in_git: Type.Boolean(),
  /** The release the pointer (or else the database) says runs there. */
  release_number: Nullable(Type.Integer()),
  /** The database's active deployment there, if any. */
  deployment_id: Nullable(Type.String()),
  problem: Type.String(),
});
export type OrphanedSlot = Static<typeof OrphanedSlot>;

/** GET /environments/orphans. */
export const OrphanedSlots = Type.Object({ items: Type.Array(OrphanedSlot) });
export type OrphanedSlots = Static<typeof OrphanedSlots>;
