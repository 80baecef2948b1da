/** Pins: an environment/project that auto-deploys leave alone until it is unpinned (DESIGN.md §8). */
import type { Pin } from '../contract/index.js';
import type { Db } from './db.js';

export async function getPin(db: Db, environment: string, repository: string, project: string): Promise<Pin | undefined> {
  const [row] = await db.query<Pin>('select * from pins where environment = $1 and repository = $2 and project = $3', [
    environment,
    repository,
    project,
  ]);
  return row;
}

/** Pins (or re-pins, replacing who and why). */
export async function pin(tx: Db, p: Omit<Pin, 'pinned_at'>): Promise<Pin> {
  const [row] = await tx.query<Pin>(
    `insert into pins (environment, repository, project, pinned_by, reason, deployment_id) values ($1, $2, $3, $4, $5, $6)
     on conflict (environment, repository, project) do update set pinned_by = excluded.pinned_by, reason = excluded.reason,
       deployment_id = excluded.deployment_id, pinned_at = now()
     returning *`,
    [p.environment, p.repository, p.project, p.pinned_by, p.reason, p.deployment_id],
  );
  return row;
}

/** Removes the pin; answers it, or undefined when there was none. */
export async function unpin(tx: Db, environment: string, repository: string, project: string): Promise<Pin | undefined> {
  const [row] = await tx.query<Pin>('delete from pins where environment = $1 and repository = $2 and project = $3 returning *', [
    environment,
    repository,
    project,
  ]);
  return row;
}

export function listPins(db: Db): Promise<Pin[]> {
  return db.query<Pin>('select * from pins order by environment, repository, project');
}
