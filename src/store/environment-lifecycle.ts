/**
 * Moving or retiring the records of an environment the platform config no longer has (issue #12
 * item 4, services/environment-lifecycle.ts). Pending rows are left alone: the outbox ends each
 * of them `failed` before its push, because its environment is not configured.
 */
import type { Db } from './db.js';

/** The repository/project slots with a settled (not pending) deployment in `environment`. */
export async function settledSlots(db: Db, environment: string): Promise<{ repository: string; project: string }[]> {
  return db.query<{ repository: string; project: string }>(
    `select distinct repository, project from deployments where environment = $1 and status <> 'pending' order by repository, project`,
    [environment],
  );
}

/** The slots of `slots` with an active deployment in `environment`. */
export async function activeSlots(db: Db, environment: string): Promise<{ repository: string; project: string; id: string }[]> {
  return db.query<{ repository: string; project: string; id: string }>(
    `select repository, project, id from deployments where environment = $1 and status = 'active' order by repository, project`,
    [environment],
  );
}

/**
 * What a rename would put into the new environment: the active deployments of `environment`
 * (the release each runs and who deployed it), checked against the new environment's policy.
 */
export async function activeReleases(
  db: Db,
  environment: string,
): Promise<{ repository: string; project: string; id: string; release_id: string; deployed_by: string }[]> {
  return db.query<{ repository: string; project: string; id: string; release_id: string; deployed_by: string }>(
    `select repository, project, id, release_id, deployed_by from deployments where environment = $1 and status = 'active' order by repository, project`,
    [environment],
  );
}

/** The id of release `number` of a project (a pointer names its release by number); undefined when there is none. */
export async function releaseIdOf(db: Db, repository: string, project: string, number: number): Promise<string | undefined> {
  const [row] = await db.query<{ id: string }>('select id from releases where repository = $1 and project = $2 and release_number = $3', [
    repository,
    project,
    number,
  ]);
  return row?.id;
}

/**
 * Moves every settled deployment of `from` to `to` (history, activations for rollback, the
 * active one, whose GitOps commit becomes `commit` when its pointer moved there), with the pins,
 * approvals, break-glass grants and train deployments of `from`. Answers the ids of the deployment rows moved.
 */
export async function moveEnvironment(tx: Db, from: string, to: string, commit: string | null): Promise<string[]> {
  const moved = await tx.query<{ id: string }>(
    `update deployments set environment = $2,
       pointer_path = case when pointer_path is null then null else $2 || substr(pointer_path, length($1) + 1) end,
       gitops_commit_sha = case when status = 'active' and $3::text is not null then $3::text else gitops_commit_sha end
     where environment = $1 and status <> 'pending' returning id`,
    [from, to, commit],
  );
  await tx.query(
    `delete from pins p where p.environment = $2 and exists (select 1 from pins o where o.environment = $1 and o.repository = p.repository and o.project = p.project)`,
    [from, to],
  );
  await tx.query('update pins set environment = $2 where environment = $1', [from, to]);
  await tx.query('update approvals set environment = $2 where environment = $1', [from, to]);
  await tx.query('update break_glass set environment = $2 where environment = $1', [from, to]);
  // a train's deployments follow their members: its history and rollback in the new name
  await tx.query('update train_deployments set environment = $2 where environment = $1', [from, to]);
  return moved.map((r) => r.id);
}

/** Ends the active deployments of `environment` `retired` and drops its pins; answers the ids retired. */
export async function retireEnvironment(tx: Db, environment: string, reason: string): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `update deployments set status = 'retired', finished_at = now(), error = $2 where environment = $1 and status = 'active' returning id`,
    [environment, reason],
  );
  await tx.query('delete from pins where environment = $1', [environment]);
  return rows.map((r) => r.id);
}

/** Marks one active deployment superseded (its slot is taken in the environment it moves to). */
export async function supersede(tx: Db, id: string, reason: string): Promise<void> {
  await tx.query(`update deployments set status = 'superseded', finished_at = now(), error = $2 where id = $1 and status = 'active'`, [
    id,
    reason,
  ]);
}
