/** The deployment aggregate: pending → active | failed, active → superseded, with leases on pending rows. */

import type { Deployment, DeploymentKind, DeploymentStatus, Page } from '../contract/index.js';
import { cutPage } from '../core/cursor.js';
import type { PolicyCheck } from '../core/policy/index.js';
import type { Db } from './db.js';
import { lockSubject } from './lock-keys.js';

/** What a replica needs to complete a pending deployment. */
export interface PendingWork {
  id: string;
  environment: string;
  repository: string;
  project: string;
  kind: DeploymentKind;
  pointer_path: string;
  pointer_content: string;
  commit_message: string;
}

export interface NewDeployment {
  id: string;
  release_id: string;
  repository: string;
  project: string;
  environment: string;
  kind: DeploymentKind;
  status: 'pending' | 'failed';
  deployed_by: string;
  deployed_at: string;
  reason?: string | null;
  approval_ids: string[];
  approved_by: string[];
  previous_release_id: string | null;
  pointer_path?: string;
  pointer_content?: string;
  commit_message?: string;
  error?: string;
  policy_checks?: PolicyCheck[];
  /** The break-glass grant that let it through a freeze window (issue #16), if one did. */
  break_glass_id?: string | null;
  lease_owner?: string;
  lease_ms?: number;
}

const SELECT = `
select d.*, r.release_number, pr.release_number as previous_release_number, r.commit_sha as release_commit_sha,
  coalesce((select json_agg(a.alias order by a.created_at, a.alias) from release_aliases a where a.release_id = r.id), '[]') as release_aliases,
  t.name as train_name
from deployments d join releases r on r.id = d.release_id left join releases pr on pr.id = d.previous_release_id
  left join trains t on t.id = d.train_id`;

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

function toDeployment(row: Record<string, unknown>): Deployment {
  const d: Deployment = {
    id: row.id as string,
    release_id: row.release_id as string,
    release_number: row.release_number as number,
    repository: row.repository as string,
    project: row.project as string,
    environment: row.environment as string,
    kind: row.kind as DeploymentKind,
    status: row.status as DeploymentStatus,
    deployed_by: row.deployed_by as string,
    deployed_at: row.deployed_at as string,
    reason: (row.reason as string) ?? null,
    gitops_commit_sha: (row.gitops_commit_sha as string) ?? null,
    approval_ids: json<string[]>(row.approval_ids),
    approved_by: json<string[]>(row.approved_by),
    previous_release_number: (row.previous_release_number as number) ?? null,
    finished_at: (row.finished_at as string) ?? null,
    break_glass_id: (row.break_glass_id as string) ?? null,
    train: row.train_id ? { id: row.train_id as string, name: row.train_name as string } : null,
  };
  d.release = {
    release_number: row.release_number as number,
    commit_sha: row.release_commit_sha as string,
    aliases: json<string[]>(row.release_aliases),
    canonical_id: `${row.repository}/${row.project}/${row.release_commit_sha}`,
  };
  if (row.error) d.error = row.error as string;
  if (row.policy_checks) d.policy_checks = json<PolicyCheck[]>(row.policy_checks);
  return d;
}

export async function insertDeployment(tx: Db, d: NewDeployment): Promise<void> {
  await tx.query(
    `insert into deployments (id, release_id, repository, project, environment, kind, status, deployed_by, deployed_at, reason,
       approval_ids, approved_by, previous_release_id, pointer_path, pointer_content, commit_message, error, policy_checks,
       finished_at, lease_owner, lease_expires_at, break_glass_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
       case when $7 = 'failed' then now() end, $19, case when $19::text is null then null else now() + make_interval(secs => $20::float8 / 1000) end, $21)`,
    [
      d.id,
      d.release_id,
      d.repository,
      d.project,
      d.environment,
      d.kind,
      d.status,
      d.deployed_by,
      d.deployed_at,
      d.reason ?? null,
      JSON.stringify(d.approval_ids),
      JSON.stringify(d.approved_by),
      d.previous_release_id,
      d.pointer_path ?? null,
      d.pointer_content ?? null,
      d.commit_message ?? null,
      d.error ?? null,
      d.policy_checks ? JSON.stringify(d.policy_checks) : null,
      d.lease_owner ?? null,
      d.lease_ms ?? 0,
      d.break_glass_id ?? null,
    ],
  );
}

export async function getDeployment(db: Db, id: string): Promise<Deployment | undefined> {
  const [row] = await db.query(`${SELECT} where d.id = $1`, [id]);
  return row && toDeployment(row);
}

export async function activeDeployment(db: Db, environment: string, repository: string, project: string): Promise<Deployment | undefined> {
  const [row] = await db.query(`${SELECT} where d.environment = $1 and d.repository = $2 and d.project = $3 and d.status = 'active'`, [
    environment,
    repository,
    project,
  ]);
  return row && toDeployment(row);
}

/** The member deployments of train deployments `ids` (issue #17), by repository and project. */
export async function deploymentsOfTrainDeployments(db: Db, ids: string[]) {
  const rows = await db.query(`${SELECT} where d.train_deployment_id = any($1::uuid[]) order by d.repository, d.project`, [ids]);
  return rows.map((row) => ({ train_deployment_id: row.train_deployment_id as string, deployment: toDeployment(row) }));
}

/**
 * The slot's deployments, newest first in the order they were recorded (recorded_seq desc):
 * `limit` after the seq `afterSeq`, else after skipping `offset`; walks deployments_history.
 */
export async function deploymentHistory(
  db: Db,
  environment: string,
  repository: string,
  project: string,
  limit: number,
  offset: number,
  afterSeq?: number,
): Promise<Page<Deployment>> {
  // The page's ids first: the releases and aliases are then read for its rows only, not for every row an offset skips.
  const read = await db.query(
    `${SELECT} join (select id from deployments where environment = $1 and repository = $2 and project = $3
       ${afterSeq === undefined ? '' : 'and recorded_seq < $6'} order by recorded_seq desc limit $4 offset $5) page on page.id = d.id
     order by d.recorded_seq desc`,
    [environment, repository, project, limit + 1, offset, ...(afterSeq === undefined ? [] : [afterSeq])],
  );
  const page = cutPage(read, limit, (row) => [Number(row.recorded_seq)]);
  const [{ total }] = await db.query<{ total: number }>(
    'select count(*)::int as total from deployments where environment = $1 and repository = $2 and project = $3',
    [environment, repository, project],
  );
  return { items: page.items.map(toDeployment), total, next: page.next };
}

/** Every active deployment, optionally of one repository/project, for status views. */
export async function activeDeployments(db: Db, filter: { repository?: string; project?: string } = {}): Promise<Deployment[]> {
  return (
    await db.query(
      `${SELECT} where d.status = 'active' and ($1::text is null or d.repository = $1) and ($2::text is null or d.project = $2)
    order by d.repository, d.project, d.environment`,
      [filter.repository ?? null, filter.project ?? null],
    )
  ).map(toDeployment);
}

/**
 * The release active just before `currentReleaseId` in activation order, skipping activations
 * of the current release itself: where `forge rollback` goes.
 */
export async function previousActivation(db: Db, environment: string, repository: string, project: string, currentReleaseId: string) {
  const [row] = await db.query<{ release_id: string }>(
    `select release_id from deployments
     where environment = $1 and repository = $2 and project = $3 and activation_seq is not null and release_id <> $4
     order by activation_seq desc limit 1`,
    [environment, repository, project, currentReleaseId],
  );
  return row?.release_id;
}

/** Serialises the recording of outcomes for one environment/project across replicas, until the transaction ends. */
export async function lockSlot(tx: Db, environment: string, repository: string, project: string): Promise<void> {
  await lockSubject(tx, 'deploymentSlot', `deploy:${environment}/${repository}/${project}`);
}

/** The pending row, locked, if `owner` still holds it (or anyone, when owner is null). */
export async function lockPending(
  tx: Db,
  id: string,
  owner: string | null,
): Promise<(PendingWork & { deployed_by: string; release_number: number }) | undefined> {
  const [row] = await tx.query<PendingWork & { deployed_by: string; release_number: number }>(
    `select d.id, d.environment, d.repository, d.project, d.kind, d.pointer_path, d.pointer_content, d.commit_message, d.deployed_by, r.release_number
     from deployments d join releases r on r.id = d.release_id
     where d.id = $1 and d.status = 'pending' and ($2::text is null or d.lease_owner = $2) for update of d`,
    [id, owner],
  );
  return row;
}

export async function markActive(tx: Db, id: string, commit: string): Promise<void> {
  await tx.query(
    `update deployments set status = 'superseded', finished_at = coalesce(finished_at, now())
    where status = 'active' and (environment, repository, project) = (select environment, repository, project from deployments where id = $1)`,
    [id],
  );
  await tx.query(
    `update deployments set status = 'active', gitops_commit_sha = $2, activation_seq = nextval('deployment_activation_seq'),
    finished_at = now(), lease_owner = null, lease_expires_at = null where id = $1`,
    [id, commit],
  );
}

/** Landed, but a newer pointer commit had already replaced it: it was never the active one. */
export async function markSupersededOnArrival(tx: Db, id: string, commit: string): Promise<void> {
  await tx.query(
    `update deployments set status = 'superseded', gitops_commit_sha = $2, finished_at = now(),
    lease_owner = null, lease_expires_at = null where id = $1`,
    [id, commit],
  );
}

export async function markFailed(db: Db, id: string, owner: string | null, error: string): Promise<boolean> {
  const rows = await db.query(
    `update deployments set status = 'failed', error = $3, finished_at = now(), lease_owner = null, lease_expires_at = null
    where id = $1 and status = 'pending' and ($2::text is null or lease_owner = $2) returning id`,
    [id, owner, error],
  );
  return rows.length > 0;
}

/** Extends the leases `owner` still holds among `ids`; returns those ids. */
export async function renewLeases(db: Db, ids: string[], owner: string, leaseMs: number): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await db.query<{ id: string }>(
    `update deployments set lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
     where id = any($1::uuid[]) and status = 'pending' and lease_owner = $2 returning id`,
    [ids, owner, leaseMs],
  );
  return rows.map((r) => r.id);
}

/**
 * Takes over pending rows whose lease expired: each is claimed by exactly one replica
 * (FOR UPDATE SKIP LOCKED), which then holds a fresh lease on it.
 */
export async function claimExpired(db: Db, owner: string, leaseMs: number, limit: number): Promise<PendingWork[]> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ id: string }>(
      `select id from deployments where status = 'pending' and lease_expires_at < now()
       order by recorded_seq limit $1 for update skip locked`,
      [limit],
    );
    if (!rows.length) return [];
    return tx.query<PendingWork>(
      `update deployments set lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
       where id = any($1::uuid[])
       returning id, environment, repository, project, kind, pointer_path, pointer_content, commit_message`,
      [rows.map((r) => r.id), owner, leaseMs],
    );
  });
}

/** What the re-check right before a push needs of a pending row (src/services/outbox.ts `prepareHeld`). */
export interface HeldRow {
  id: string;
  release_id: string;
  environment: string;
  repository: string;
  project: string;
  kind: DeploymentKind;
  deployed_by: string;
  approved_by: string[];
  /** Why, as the deployer said (written into the commit message). */
  reason: string | null;
  recorded_seq: number;
  /** The release train deployment it is a member of (issue #17), or null. */
  train_deployment_id: string | null;
}

/**
 * Renews the lease of the pending row `id` if `owner` still holds it, locking it until `tx`
 * ends (a replica taking it over waits, or skips it, until then); answers the row, or undefined
 * when `owner` no longer holds it.
 */
export async function holdPending(tx: Db, id: string, owner: string, leaseMs: number): Promise<HeldRow | undefined> {
  const [row] = await tx.query<HeldRow>(
    `update deployments set lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
     where id = $1 and status = 'pending' and lease_owner = $2
     returning id, release_id, environment, repository, project, kind, deployed_by, approved_by, reason, recorded_seq::float8 as recorded_seq,
       train_deployment_id`,
    [id, owner, leaseMs],
  );
  return row && { ...row, approved_by: json<string[]>(row.approved_by), recorded_seq: Number(row.recorded_seq) };
}

/** When deployment `id` was recorded (its order among the deployments), or undefined when there is no such deployment of the slot. */
export async function recordedSeq(db: Db, id: string, slot: { environment: string; repository: string; project: string }) {
  const [row] = await db.query<{ seq: number }>(
    `select recorded_seq::float8 as seq from deployments where id = $1 and environment = $2 and repository = $3 and project = $4`,
    [id, slot.environment, slot.repository, slot.project],
  );
  return row ? Number(row.seq) : undefined;
}

/** The release a pending deployment replaces, as the tip it is built on says, and the message it will push. */
export async function setPrevious(tx: Db, id: string, previousReleaseId: string | null, commitMessage: string): Promise<void> {
  await tx.query('update deployments set previous_release_id = $2, commit_message = $3 where id = $1', [
    id,
    previousReleaseId,
    commitMessage,
  ]);
}

/**
 * Ends a pending deployment that was not pushed because what it was decided on changed before
 * its push: `superseded` (a newer deployment is live) or `failed` (the policy, re-checked, refuses
 * it), with `error` saying so. Answers false when `owner` no longer holds it.
 */
export async function markStale(
  db: Db,
  id: string,
  owner: string | null,
  status: 'superseded' | 'failed',
  error: string,
): Promise<boolean> {
  const rows = await db.query(
    `update deployments set status = $4, error = $3, finished_at = now(), lease_owner = null, lease_expires_at = null
    where id = $1 and status = 'pending' and ($2::text is null or lease_owner = $2) returning id`,
    [id, owner, error, status],
  );
  return rows.length > 0;
}

/** The pointer file content a pending deployment pushes. */
export async function pointerOf(db: Db, id: string): Promise<string | undefined> {
  const [row] = await db.query<{ pointer_content: string | null }>('select pointer_content from deployments where id = $1', [id]);
  return row?.pointer_content ?? undefined;
}

/** Ends the active deployment `id` with nothing replacing it (its pointer is gone from git), saying why. */
export async function retireActive(tx: Db, id: string, why: string): Promise<void> {
  await tx.query(`update deployments set status = 'superseded', error = $2, finished_at = now() where id = $1 and status = 'active'`, [
    id,
    why,
  ]);
}
