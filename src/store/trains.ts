/**
 * Release trains (issue #17): trains and their members (immutable once inserted), train
 * deployments, and the member deployments that name them (deployments.train_id,
 * deployments.train_deployment_id). A train deployment's status and commit are read from its
 * members' rows: they are the outbox that carries it (src/services/train-deploy.ts).
 */
import type { Page, Train, TrainDeployment, TrainMember } from '../contract/index.js';
import { cutPage } from '../core/cursor.js';
import type { Db } from './db.js';
import * as deployments from './deployments.js';

export interface NewTrain {
  id: string;
  name: string;
  created_by: string;
  members: TrainMember[];
}

/** Inserts a train and its members; false when the name is taken (nothing inserted then). */
export async function insertTrain(tx: Db, t: NewTrain): Promise<boolean> {
  const rows = await tx.query('insert into trains (id, name, created_by) values ($1, $2, $3) on conflict (name) do nothing returning id', [
    t.id,
    t.name,
    t.created_by,
  ]);
  if (!rows.length) return false;
  await tx.query(
    `insert into train_members (train_id, position, release_id, repository, project, release_digest)
     select $1, m.position, m.release_id, m.repository, m.project, m.digest
     from json_to_recordset($2::json) as m(position int, release_id uuid, repository text, project text, digest text)`,
    [
      t.id,
      JSON.stringify(
        t.members.map((m, position) => ({
          position,
          release_id: m.release_id,
          repository: m.repository,
          project: m.project,
          digest: m.digest,
        })),
      ),
    ],
  );
  return true;
}

const TRAIN = `
select t.id, t.name, t.created_by, t.created_at,
  coalesce((select json_agg(json_build_object('repository', m.repository, 'project', m.project, 'release_id', m.release_id,
      'release_number', r.release_number, 'commit_sha', r.commit_sha, 'digest', m.release_digest) order by m.position)
    from train_members m join releases r on r.id = m.release_id where m.train_id = t.id), '[]') as members
from trains t`;

const toTrain = (row: Record<string, unknown>): Train => ({
  id: row.id as string,
  name: row.name as string,
  created_by: row.created_by as string,
  created_at: row.created_at as string,
  members: (typeof row.members === 'string' ? JSON.parse(row.members) : row.members) as TrainMember[],
});

/** The train with id `id` (a uuid) or, when none, named `ref`. */
export async function findTrain(db: Db, ref: string): Promise<Train | undefined> {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
  const [row] = await db.query(`${TRAIN} where ${uuid ? 't.id = $1::uuid' : 't.name = $1'}`, [ref]);
  return row && toTrain(row);
}

/** Newest first (seq desc): `limit` after the seq `afterSeq`, else after skipping `offset`; walks trains_seq (migration 0171). */
export async function listTrains(db: Db, limit: number, offset: number, afterSeq?: number): Promise<Page<Train>> {
  const rows = await db.query(
    `${TRAIN.replace('select t.id,', 'select t.seq, t.id,')} ${afterSeq === undefined ? '' : 'where t.seq < $3'} order by t.seq desc limit $1 offset $2`,
    [limit + 1, offset, ...(afterSeq === undefined ? [] : [afterSeq])],
  );
  const [{ total }] = await db.query<{ total: number }>('select count(*)::int as total from trains');
  const page = cutPage(rows, limit, (row) => [Number(row.seq)]);
  return { items: page.items.map(toTrain), total, next: page.next };
}

export interface NewTrainDeployment {
  id: string;
  train_id: string;
  environment: string;
  kind: 'deploy' | 'rollback';
  deployed_by: string;
  reason: string | null;
  rolls_back: string | null;
}

export async function insertTrainDeployment(tx: Db, d: NewTrainDeployment): Promise<void> {
  await tx.query(
    `insert into train_deployments (id, train_id, environment, kind, deployed_by, reason, rolls_back) values ($1, $2, $3, $4, $5, $6, $7)`,
    [d.id, d.train_id, d.environment, d.kind, d.deployed_by, d.reason, d.rolls_back],
  );
}

/** Marks member deployments `ids` as part of train deployment `trainDeploymentId` of train `trainId`. */
export async function tagMembers(tx: Db, ids: string[], trainId: string, trainDeploymentId: string): Promise<void> {
  await tx.query('update deployments set train_id = $2, train_deployment_id = $3 where id = any($1::uuid[])', [
    ids,
    trainId,
    trainDeploymentId,
  ]);
}

const TRAIN_DEPLOYMENT = `
select td.id, td.train_id, t.name as train_name, td.environment, td.kind, td.deployed_by, td.deployed_at, td.reason, td.rolls_back
from train_deployments td join trains t on t.id = td.train_id`;

async function withMembers(db: Db, rows: Record<string, unknown>[]): Promise<TrainDeployment[]> {
  if (!rows.length) return [];
  const members = await deployments.deploymentsOfTrainDeployments(
    db,
    rows.map((r) => r.id as string),
  );
  return rows.map((row) => {
    const mine = members.filter((m) => m.train_deployment_id === row.id).map((m) => m.deployment);
    const commit = mine.find((m) => m.gitops_commit_sha)?.gitops_commit_sha ?? null;
    const status = mine.some((m) => m.status === 'pending') ? 'pending' : commit ? 'deployed' : 'failed';
    const error = status === 'failed' ? mine.find((m) => m.error)?.error : undefined;
    return {
      id: row.id as string,
      train: { id: row.train_id as string, name: row.train_name as string },
      environment: row.environment as string,
      kind: row.kind as 'deploy' | 'rollback',
      status,
      deployed_by: row.deployed_by as string,
      deployed_at: row.deployed_at as string,
      reason: (row.reason as string) ?? null,
      gitops_commit_sha: commit,
      rolls_back: (row.rolls_back as string) ?? null,
      ...(error ? { error } : {}),
      members: mine,
    };
  });
}

export async function getTrainDeployment(db: Db, id: string): Promise<TrainDeployment | undefined> {
  const [row] = await db.query(`${TRAIN_DEPLOYMENT} where td.id = $1`, [id]);
  return row ? (await withMembers(db, [row]))[0] : undefined;
}

/**
 * A train's deployments, newest first (seq desc), optionally to one environment: `limit` after
 * the seq `afterSeq`, else after skipping `offset`; walks train_deployments_train.
 */
export async function listTrainDeployments(
  db: Db,
  trainId: string,
  environment: string | undefined,
  limit: number,
  offset: number,
  afterSeq?: number,
): Promise<Page<TrainDeployment>> {
  const read = await db.query(
    `${TRAIN_DEPLOYMENT.replace('select td.id,', 'select td.seq, td.id,')} where td.train_id = $1 and ($2::text is null or td.environment = $2)
     ${afterSeq === undefined ? '' : 'and td.seq < $5'} order by td.seq desc limit $3 offset $4`,
    [trainId, environment ?? null, limit + 1, offset, ...(afterSeq === undefined ? [] : [afterSeq])],
  );
  const page = cutPage(read, limit, (row) => [Number(row.seq)]);
  const rows = page.items;
  const [{ total }] = await db.query<{ total: number }>(
    'select count(*)::int as total from train_deployments where train_id = $1 and ($2::text is null or environment = $2)',
    [trainId, environment ?? null],
  );
  return { items: await withMembers(db, rows), total, next: page.next };
}

/**
 * The ids of the train's landed deployments (kind `deploy`) to `environment`, newest first; and
 * whether a train rollback landed after the newest.
 */
export async function landedDeployments(db: Db, trainId: string, environment: string): Promise<{ ids: string[]; rolledBack: boolean }> {
  const rows = await db.query<{ id: string; kind: string }>(
    `select td.id, td.kind from train_deployments td
     where td.train_id = $1 and td.environment = $2
       and exists (select 1 from deployments d where d.train_deployment_id = td.id and d.gitops_commit_sha is not null)
     order by td.seq desc`,
    [trainId, environment],
  );
  const deploys = rows.filter((r) => r.kind === 'deploy');
  return { ids: deploys.map((r) => r.id), rolledBack: rows.length > 0 && rows[0]!.kind === 'rollback' && deploys.length > 0 };
}

/** Each member deployment of train deployment `id`: its slot, release and the release it replaced (as the tip it was built on said). */
export async function memberSlots(
  db: Db,
  id: string,
): Promise<{ id: string; repository: string; project: string; release_id: string; previous_release_id: string | null }[]> {
  return db.query(
    `select id, repository, project, release_id, previous_release_id from deployments where train_deployment_id = $1 order by repository, project`,
    [id],
  );
}
