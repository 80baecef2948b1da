/** GET /environments on the wire (DESIGN.md §7, §10): each environment's policy and what runs there per project. */
import { type Static, Type } from 'typebox';
import { ClusterStatus } from './cluster.js';
import { Nullable, Paging } from './common.js';
import { DeploymentKind } from './deployment.js';
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

/** GET /environments: a page of environments; their deployments optionally of one repository/project. */
export const EnvironmentsQuery = Type.Object({
  ...Paging.properties,
  repository: Type.Optional(Type.String({ maxLength: 201 })),
  project: Type.Optional(Type.String({ maxLength: 63 })),
});
export type EnvironmentsQuery = Static<typeof EnvironmentsQuery>;
