/** Deployments on the wire (DESIGN.md §8, §10): deploy, roll back, the active one and the history of a slot. */
import { type Static, Type } from 'typebox';
import { ClusterStatus, DeploymentTimeline } from './cluster.js';
import { Nullable } from './common.js';
import { PolicyCheck, ResolvedRelease } from './policy.js';

export const DeploymentKind = Type.Union([Type.Literal('deploy'), Type.Literal('rollback'), Type.Literal('auto')]);
export type DeploymentKind = Static<typeof DeploymentKind>;

/** pending → active | failed; active → superseded | retired (its environment retired, issue #12 item 4). */
export const DeploymentStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('active'),
  Type.Literal('superseded'),
  Type.Literal('failed'),
  Type.Literal('retired'),
]);
export type DeploymentStatus = Static<typeof DeploymentStatus>;

/** The release train a deployment belongs to (issue #17): its id and name. */
export const TrainRef = Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() });
export type TrainRef = Static<typeof TrainRef>;

export const Deployment = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    release_id: Type.String({ format: 'uuid' }),
    release_number: Type.Integer(),
    repository: Type.String(),
    project: Type.String(),
    environment: Type.String(),
    kind: DeploymentKind,
    status: DeploymentStatus,
    deployed_by: Type.String(),
    deployed_at: Type.String(),
    reason: Nullable(Type.String()),
    gitops_commit_sha: Nullable(Type.String()),
    approval_ids: Type.Array(Type.String()),
    approved_by: Type.Array(Type.String()),
    previous_release_number: Nullable(Type.Integer()),
    finished_at: Nullable(Type.String()),
    /**
     * The break-glass grant that let it through a freeze window (issue #16; `GET /break-glass/{id}`
     * has its reason, requester, second person and justification); null when none was used.
     */
    break_glass_id: Nullable(Type.String({ format: 'uuid' })),
    /** The release train whose deployment this is part of (issue #17; `GET /trains/{id}`), null for a single deployment. */
    train: Nullable(TrainRef),
    /** Why it failed (failed deployments only). */
    error: Type.Optional(Type.String()),
    /** The policy's checks (refused auto-deploys only). */
    policy_checks: Type.Optional(Type.Array(PolicyCheck)),
    /** The release deployed, named as every answer about a reference names it (number, commit, aliases). */
    release: Type.Optional(ResolvedRelease),
    /** Argo CD's view of the slot (the current deployment read only; null: nothing reported yet). */
    cluster: Type.Optional(Nullable(ClusterStatus)),
    /** committed → synced → healthy / degraded (the current deployment read only). */
    timeline: Type.Optional(DeploymentTimeline),
  },
  { $id: 'Deployment' },
);
export type Deployment = Static<typeof Deployment>;

/** An auto-deploy a release's registration triggered (DESIGN.md §6 step 4), and how it stands. */
export const AutoDeployment = Type.Object({ id: Type.String(), environment: Type.String(), status: DeploymentStatus });
export type AutoDeployment = Static<typeof AutoDeployment>;

/** POST /deployments and POST /policy-checks. */
export const DeployBody = Type.Object(
  {
    repository: Type.String({ maxLength: 201 }),
    project: Type.String({ maxLength: 63 }),
    environment: Type.String({ maxLength: 63 }),
    release: Type.String({ minLength: 1, maxLength: 256 }),
    reason: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type DeployRequest = Static<typeof DeployBody>;

/**
 * POST /policy-checks: a would-be deployment, optionally at another moment (`at`, RFC 3339: the
 * time-based rules, such as freeze windows, are evaluated then) and of another kind (`kind`,
 * default `manual`: a freeze window's `applies_to` decides per kind).
 */
export const PolicyCheckBody = Type.Object(
  {
    ...DeployBody.properties,
    at: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('manual'), Type.Literal('rollback')])),
  },
  { additionalProperties: false },
);
export type PolicyCheckRequest = Static<typeof PolicyCheckBody>;

/** POST /deployments/rollback: the slot; the release is the one active before the current one. */
export const RollbackBody = Type.Object(
  {
    repository: Type.String({ maxLength: 201 }),
    project: Type.String({ maxLength: 63 }),
    environment: Type.String({ maxLength: 63 }),
    reason: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type RollbackRequest = Static<typeof RollbackBody>;

/** `/{env}/{owner}/{name}/{project}`: one project in one environment. */
export const SlotParams = Type.Object({ env: Type.String(), owner: Type.String(), name: Type.String(), project: Type.String() });
export type SlotParams = Static<typeof SlotParams>;
