/**
 * What Argo CD reported (issue 15): the latest observation of each slot, the outcome times of
 * each deployment (committed → synced → healthy / degraded / sync failed), the healthy stretches
 * the verification gate reads, and the one-shot claims of automatic rollbacks and gate releases.
 */
import type { ClusterStatus } from '../contract/index.js';
import type { OutcomeTimes } from '../core/argocd-application.js';
import type { DoraDeployment } from '../core/dora.js';
import type { Db } from './db.js';

export interface Observation {
  environment: string;
  repository: string;
  project: string;
  application: string;
  sync_status: string | null;
  health_status: string | null;
  revision: string | null;
  operation_phase: string | null;
  operation_finished_at: string | null;
  reconciled_at: string | null;
  observed_at: string;
  /** The active deployment when observed, and whether the revision was its own (false: drift). */
  deployment_id: string | null;
  revision_is_deployment: boolean;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

/**
 * Stores `o` as the slot's latest observation unless a newer one (by `reconciled_at`) is
 * already there; answers whether it was stored (false: an older notification arrived late).
 */
export async function recordObservation(tx: Db, o: Observation): Promise<boolean> {
  const rows = await tx.query(
    `insert into argocd_observations as a (environment, repository, project, application, sync_status, health_status, revision,
       operation_phase, operation_finished_at, reconciled_at, observed_at, deployment_id, revision_is_deployment)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     on conflict (environment, repository, project) do update set
       application = excluded.application, sync_status = excluded.sync_status, health_status = excluded.health_status,
       revision = excluded.revision, operation_phase = excluded.operation_phase,
       operation_finished_at = excluded.operation_finished_at, reconciled_at = excluded.reconciled_at, observed_at = excluded.observed_at,
       deployment_id = excluded.deployment_id, revision_is_deployment = excluded.revision_is_deployment
     where a.reconciled_at is null or excluded.reconciled_at is null or excluded.reconciled_at >= a.reconciled_at
       or a.deployment_id is distinct from excluded.deployment_id
     returning 1`,
    [
      o.environment,
      o.repository,
      o.project,
      o.application,
      o.sync_status,
      o.health_status,
      o.revision,
      o.operation_phase,
      o.operation_finished_at,
      o.reconciled_at,
      o.observed_at,
      o.deployment_id,
      o.revision_is_deployment,
    ],
  );
  return rows.length > 0;
}

/**
 * The cluster view of the slots asked (`env/owner/name/project` keys), as the API shows it with
 * the slot's active deployment: only what belongs to that deployment (issue 15). The latest
 * observation counts when it was made while this deployment was active, or its revision is this
 * deployment's GitOps commit; an observation of an earlier deployment (nothing reported since
 * this one landed) is absent. Made while this deployment was active but of a revision that is
 * not its own (Argo CD not synced to it yet, or drift), it shows that revision with
 * `revision_is_deployment: false` and no sync or health status: those are another revision's.
 */
export async function clusterStatuses(db: Db, slots: { environment: string; repository: string; project: string }[]) {
  const out = new Map<string, ClusterStatus>();
  if (!slots.length) return out;
  const rows = await db.query<Observation & { active_id: string | null; active_sha: string | null }>(
    `select o.*, d.id as active_id, d.gitops_commit_sha as active_sha from argocd_observations o
       left join deployments d on d.environment = o.environment and d.repository = o.repository and d.project = o.project
         and d.status = 'active'
     where (o.environment || '/' || o.repository || '/' || o.project) = any($1::text[])`,
    [slots.map((s) => `${s.environment}/${s.repository}/${s.project}`)],
  );
  for (const r of rows) {
    if (!r.active_id) continue;
    const sameDeployment = r.deployment_id === r.active_id;
    const itsRevision = r.revision !== null && r.revision === r.active_sha;
    if (!sameDeployment && !itsRevision) continue;
    const ours = itsRevision || (sameDeployment && r.revision_is_deployment === true);
    out.set(`${r.environment}/${r.repository}/${r.project}`, {
      sync_status: ours ? r.sync_status : null,
      health_status: ours ? r.health_status : null,
      revision: r.revision,
      observed_at: iso(r.observed_at)!,
      deployment_id: r.active_id,
      revision_is_deployment: ours,
    });
  }
  return out;
}

/** Whether Forge has any release of `repository`/`project` (else an Application of that path is unknown). */
export async function projectKnown(db: Db, repository: string, project: string): Promise<boolean> {
  return (await db.query('select 1 from releases where repository = $1 and project = $2 limit 1', [repository, project])).length > 0;
}

/** The latest observation of one slot, or undefined. */
export async function observationOf(db: Db, environment: string, repository: string, project: string): Promise<Observation | undefined> {
  const [row] = await db.query<Observation>(
    'select * from argocd_observations where environment = $1 and repository = $2 and project = $3',
    [environment, repository, project],
  );
  return row;
}

/** A deployment's outcome times (ISO strings or null). */
export interface Outcome extends OutcomeTimes {
  id: string;
  release_id: string;
  status: string;
  gitops_commit_sha: string | null;
  finished_at: string | null;
}

function toOutcome(r: Record<string, unknown>): Outcome {
  return {
    id: r.id as string,
    release_id: r.release_id as string,
    status: r.status as string,
    gitops_commit_sha: (r.gitops_commit_sha as string) ?? null,
    finished_at: iso(r.finished_at),
    synced_at: iso(r.synced_at),
    healthy_at: iso(r.healthy_at),
    degraded_at: iso(r.degraded_at),
    sync_failed_at: iso(r.sync_failed_at),
    healthy_since: iso(r.healthy_since),
    healthy_longest_ms: Number(r.healthy_longest_ms ?? 0),
  };
}

const OUTCOME = `select id, release_id, status, gitops_commit_sha, finished_at, synced_at, healthy_at, degraded_at, sync_failed_at,
  healthy_since, healthy_longest_ms from deployments`;

/** The deployment's outcome row, locked for update (call inside a transaction). */
export async function lockOutcome(tx: Db, id: string): Promise<Outcome | undefined> {
  const [row] = await tx.query(`${OUTCOME} where id = $1 for update`, [id]);
  return row && toOutcome(row);
}

/** The deployment's outcome row, not locked (reads). */
export async function outcomeOf(db: Db, id: string): Promise<Outcome | undefined> {
  const [row] = await db.query(`${OUTCOME} where id = $1`, [id]);
  return row && toOutcome(row);
}

/** Writes the outcome fields of a deployment (the caller computed them under `lockOutcome`). */
export async function writeOutcome(tx: Db, o: Outcome): Promise<void> {
  await tx.query(
    `update deployments set synced_at = $2, healthy_at = $3, degraded_at = $4, sync_failed_at = $5, healthy_since = $6,
       healthy_longest_ms = $7 where id = $1`,
    [o.id, o.synced_at, o.healthy_at, o.degraded_at, o.sync_failed_at, o.healthy_since, o.healthy_longest_ms],
  );
}

/**
 * The healthy stretches of `releaseId` in `environment`, over all its deployments there: the
 * start of the stretch still running (active deployment, Healthy now) or null, and the longest
 * stretch that ended, ms (a stretch of a deployment no longer active ends when it was superseded).
 */
export async function healthyStretch(
  db: Db,
  releaseId: string,
  environment: string,
): Promise<{ since: string | null; longestMs: number; everObserved: boolean }> {
  // A deployment no longer active stopped being this release's when the next activation of its
  // slot landed (finished_at of an activation is when it became active).
  const rows = await db.query<Record<string, unknown>>(
    `select d.status, d.synced_at, d.healthy_at, d.healthy_since, d.healthy_longest_ms,
       (select min(n.finished_at) from deployments n where n.environment = d.environment and n.repository = d.repository
          and n.project = d.project and n.activation_seq > d.activation_seq) as ended_at
     from deployments d where d.release_id = $1 and d.environment = $2 and d.activation_seq is not null`,
    [releaseId, environment],
  );
  let since: string | null = null;
  let longestMs = 0;
  for (const r of rows) {
    longestMs = Math.max(longestMs, Number(r.healthy_longest_ms ?? 0));
    const healthySince = iso(r.healthy_since);
    if (!healthySince) continue;
    if (r.status === 'active') since = healthySince;
    else {
      const ended = iso(r.ended_at);
      if (ended) longestMs = Math.max(longestMs, Date.parse(ended) - Date.parse(healthySince));
    }
  }
  return { since, longestMs, everObserved: rows.some((r) => r.synced_at !== null || r.healthy_at !== null) };
}

/**
 * The newest deployment of the slot that was ever healthy, of a release other than
 * `excludeReleaseId`: where an automatic rollback goes.
 */
export async function lastHealthyRelease(
  db: Db,
  slot: { environment: string; repository: string; project: string },
  excludeReleaseId: string,
): Promise<string | undefined> {
  const [row] = await db.query<{ release_id: string }>(
    `select release_id from deployments where environment = $1 and repository = $2 and project = $3 and healthy_at is not null
       and release_id <> $4 and activation_seq is not null order by activation_seq desc limit 1`,
    [slot.environment, slot.repository, slot.project, excludeReleaseId],
  );
  return row?.release_id;
}

/**
 * Claims the one automatic rollback of deployment `bad` (one per bad release in an
 * environment); false when it was claimed before, by any replica, for this deployment or
 * another deployment of the same release there.
 */
export async function claimAutoRollback(
  db: Db,
  bad: { id: string; environment: string; release_id: string },
  cause: 'degraded' | 'sync_failed',
): Promise<boolean> {
  const rows = await db.query(
    `insert into auto_rollbacks (bad_deployment_id, environment, bad_release_id, cause) values ($1, $2, $3, $4)
     on conflict do nothing returning 1`,
    [bad.id, bad.environment, bad.release_id, cause],
  );
  return rows.length > 0;
}

/** The automatic rollback claimed for `releaseId` in `environment`, if any. */
export async function autoRollbackOfRelease(
  db: Db,
  environment: string,
  releaseId: string,
): Promise<{ bad_deployment_id: string; rollback_deployment_id: string | null } | undefined> {
  const [row] = await db.query<{ bad_deployment_id: string; rollback_deployment_id: string | null }>(
    'select bad_deployment_id, rollback_deployment_id from auto_rollbacks where environment = $1 and bad_release_id = $2',
    [environment, releaseId],
  );
  return row;
}

/**
 * Records that the failure of `bad` is not rolled back automatically (its release was already,
 * or it is itself an automatic rollback); false when it was recorded before (by any replica):
 * the caller audits it only when true, so once.
 */
export async function recordAutoRollbackRefusal(
  db: Db,
  bad: { id: string; environment: string },
  cause: 'degraded' | 'sync_failed',
  reason: string,
): Promise<boolean> {
  const rows = await db.query(
    `insert into auto_rollback_refusals (bad_deployment_id, environment, cause, reason) values ($1, $2, $3, $4)
     on conflict do nothing returning 1`,
    [bad.id, bad.environment, cause, reason],
  );
  return rows.length > 0;
}

export async function finishAutoRollback(db: Db, badId: string, rollbackId: string | null, outcome: string): Promise<void> {
  await db.query('update auto_rollbacks set rollback_deployment_id = $2, outcome = $3 where bad_deployment_id = $1', [
    badId,
    rollbackId,
    outcome,
  ]);
}

/**
 * Refused auto-deploys whose only failed check is `verification`, not released yet, and still
 * the newest auto-deploy of their slot: what the gate sweep re-examines. Oldest first.
 */
export async function waitingOnGates(db: Db, limit: number): Promise<{ id: string; release_id: string; environment: string }[]> {
  return db.query(
    `select d.id, d.release_id, d.environment from deployments d
     where d.kind = 'auto' and d.status = 'failed' and d.policy_checks is not null
       and exists (select 1 from jsonb_array_elements(d.policy_checks) c where c->>'name' = 'verification' and c->>'ok' = 'false')
       and not exists (select 1 from jsonb_array_elements(d.policy_checks) c where c->>'name' <> 'verification' and c->>'ok' = 'false')
       and not exists (select 1 from gate_releases g where g.refused_deployment_id = d.id)
       and not exists (select 1 from deployments n where n.environment = d.environment and n.repository = d.repository
                       and n.project = d.project and n.recorded_seq > d.recorded_seq and n.kind = 'auto')
     order by d.recorded_seq limit $1`,
    [limit],
  );
}

/** Claims the release of a refused auto-deploy; false when another replica did. */
export async function claimGateRelease(db: Db, refusedId: string): Promise<boolean> {
  return (
    (await db.query('insert into gate_releases (refused_deployment_id) values ($1) on conflict do nothing returning 1', [refusedId]))
      .length > 0
  );
}

export async function finishGateRelease(db: Db, refusedId: string, deploymentId: string | null): Promise<void> {
  await db.query('update gate_releases set deployment_id = $2 where refused_deployment_id = $1', [refusedId, deploymentId]);
}

/** One deployment as DORA counts it (issue 15): every deployment that became active in the range. */
export interface DoraRow extends DoraDeployment {
  id: string;
  kind: string;
}

/** The activations in [from, to) matching the filters, oldest first. */
export async function doraRows(
  db: Db,
  q: { environment?: string; repository?: string; project?: string; from: string; to: string },
): Promise<DoraRow[]> {
  const rows = await db.query<Record<string, unknown>>(
    `select d.id, d.environment, d.repository, d.project, d.kind, d.finished_at as committed_at, coalesce(r.source_committed_at, r.created_at) as source_committed_at,
       d.healthy_at, d.degraded_at, d.sync_failed_at,
       exists (select 1 from deployments n where n.environment = d.environment and n.repository = d.repository
               and n.project = d.project and n.kind = 'rollback' and n.activation_seq is not null
               and n.activation_seq = (select min(m.activation_seq) from deployments m where m.environment = d.environment
                 and m.repository = d.repository and m.project = d.project and m.activation_seq > d.activation_seq)) as rolled_back
     from deployments d join releases r on r.id = d.release_id
     where d.activation_seq is not null and d.finished_at >= $1 and d.finished_at < $2
       and ($3::text is null or d.environment = $3) and ($4::text is null or d.repository = $4) and ($5::text is null or d.project = $5)
     order by d.activation_seq`,
    [q.from, q.to, q.environment ?? null, q.repository ?? null, q.project ?? null],
  );
  return rows.map((r) => ({
    id: r.id as string,
    environment: r.environment as string,
    repository: r.repository as string,
    project: r.project as string,
    kind: r.kind as string,
    committed_at: iso(r.committed_at)!,
    source_committed_at: iso(r.source_committed_at)!,
    healthy_at: iso(r.healthy_at),
    degraded_at: iso(r.degraded_at),
    sync_failed_at: iso(r.sync_failed_at),
    rolled_back: r.rolled_back === true,
  }));
}

/**
 * Active deployments that turned degraded or failed to sync and whose automatic rollback was
 * neither claimed nor recorded as refused (the replica that saw the event died before it
 * could): the sweep's work.
 */
export async function unclaimedFailures(
  db: Db,
  environment: string,
  withinMs: number,
  limit: number,
): Promise<{ id: string; cause: 'degraded' | 'sync_failed' }[]> {
  return db.query(
    `select d.id, case when d.degraded_at is not null then 'degraded' else 'sync_failed' end as cause from deployments d
     where d.status = 'active' and d.environment = $1 and (d.degraded_at is not null or d.sync_failed_at is not null)
       and d.finished_at > now() - make_interval(secs => $2::float8 / 1000)
       and not exists (select 1 from auto_rollbacks a where a.bad_deployment_id = d.id)
       and not exists (select 1 from auto_rollback_refusals r where r.bad_deployment_id = d.id)
     order by d.activation_seq limit $3`,
    [environment, withinMs, limit],
  );
}

/**
 * Slots where Argo CD's last report disagrees with the active deployment (drift, issue 15):
 * it reported a revision that is not the deployment's commit (nor a later one with its pointer).
 */
export async function driftedSlots(
  db: Db,
): Promise<
  { environment: string; repository: string; project: string; revision: string; gitops_commit_sha: string | null; observed_at: string }[]
> {
  const rows = await db.query<{
    environment: string;
    repository: string;
    project: string;
    revision: string;
    gitops_commit_sha: string | null;
    observed_at: string;
  }>(
    `select o.environment, o.repository, o.project, o.revision, d.gitops_commit_sha, o.observed_at
     from argocd_observations o join deployments d on d.id = o.deployment_id and d.status = 'active'
     where o.revision is not null and not o.revision_is_deployment
     order by o.environment, o.repository, o.project`,
  );
  return rows.map((r) => ({ ...r, observed_at: iso(r.observed_at)! }));
}
