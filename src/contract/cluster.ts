/**
 * What Argo CD reports, on the wire (issue 15): the cluster view of a deployment, the answer to
 * a posted Application, and the DORA metrics.
 */
import { type Static, Type } from 'typebox';
import { Nullable } from './common.js';

/** Argo CD's view of a slot, values as Argo CD spells them (`Synced`, `OutOfSync`, `Healthy`, `Degraded`, …). */
export const ClusterStatus = Type.Object(
  {
    sync_status: Nullable(Type.String()),
    health_status: Nullable(Type.String()),
    /** The GitOps commit Argo CD synced (status.sync.revision). */
    revision: Nullable(Type.String()),
    /** When Forge received the observation. */
    observed_at: Type.String(),
    /** The deployment this view is of: always the one it is shown with (an earlier deployment's view is not shown). */
    deployment_id: Nullable(Type.String()),
    /**
     * Whether `revision` was that deployment's GitOps commit (or a later one with the same
     * pointer). False with a revision: drift, Argo CD runs something else than Forge recorded;
     * then `sync_status` and `health_status` are null (they are that other revision's).
     */
    revision_is_deployment: Type.Boolean(),
  },
  { $id: 'ClusterStatus' },
);
export type ClusterStatus = Static<typeof ClusterStatus>;

/** The times a deployment reached each stage, RFC 3339 or null. */
export const DeploymentTimeline = Type.Object({
  committed_at: Nullable(Type.String()),
  synced_at: Nullable(Type.String()),
  healthy_at: Nullable(Type.String()),
  degraded_at: Nullable(Type.String()),
  sync_failed_at: Nullable(Type.String()),
});
export type DeploymentTimeline = Static<typeof DeploymentTimeline>;

/** POST /integrations/argocd: what the posted Application matched, and what changed. */
export const ArgocdIngestResult = Type.Object({
  application: Type.String(),
  matched: Type.Boolean(),
  environment: Type.Optional(Type.String()),
  repository: Type.Optional(Type.String()),
  project: Type.Optional(Type.String()),
  /** The active deployment the observation was about, when the revision is its own. */
  deployment_id: Type.Optional(Nullable(Type.String())),
  /** Events recorded (deployment.synced|healthy|degraded|sync_failed); empty when nothing changed. */
  events: Type.Array(Type.String()),
  /** Why nothing was recorded against a deployment (another repository, unknown path or project, older revision, stale notification). */
  note: Type.Optional(Type.String()),
});
export type ArgocdIngestResult = Static<typeof ArgocdIngestResult>;

/** GET /metrics/dora query: every filter optional; the range defaults to the last 30 days. */
export const DoraQuery = Type.Object(
  {
    environment: Type.Optional(Type.String({ maxLength: 63 })),
    repository: Type.Optional(Type.String({ maxLength: 201 })),
    project: Type.Optional(Type.String({ maxLength: 63 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
export type DoraQuery = Static<typeof DoraQuery>;

export const DoraMetrics = Type.Object(
  {
    from: Type.String(),
    to: Type.String(),
    /** Deployments that became active in the range. */
    deployments: Type.Integer(),
    /** Deployments per day over the range. */
    deployment_frequency: Type.Number(),
    /** Median seconds from the release's source commit to first healthy; null when none became healthy. */
    lead_time_seconds: Nullable(Type.Number()),
    /** Share (0–1) of deployments that were rolled back, turned degraded or failed to sync; null without deployments. */
    change_failure_rate: Nullable(Type.Number()),
    /** Median seconds from a failure to the slot's next healthy deployment; null when none was restored. */
    time_to_restore_seconds: Nullable(Type.Number()),
    /** Deployments per UTC day, for the chart. */
    per_day: Type.Array(Type.Object({ day: Type.String(), deployments: Type.Integer(), failures: Type.Integer() })),
  },
  { $id: 'DoraMetrics' },
);
export type DoraMetrics = Static<typeof DoraMetrics>;
