/**
 * Indexes for every query path (issue #18 item "A hundred thousand releases"), on PostgreSQL:
 * on a seeded and analysed database (15,000 releases in 201 projects, one of them with 5,000, each with a trigger;
 * 10,000 deployments and audit entries; 3,000 of each other listed row), every query that each
 * list, the project list and release resolution run is captured as it is sent and explained
 * (`explain (format json)`, with its parameters). No plan reads releases, release aliases or
 * triggers, deployments or the audit log with a sequential scan, and each keyset page walks the
 * index of its order (migrations 0001, 0002, 0140, 0171).
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seededSha, seedReleases } from '../bench/seed.js';
import { listApprovals } from '../src/store/approvals.js';
import { listAudit } from '../src/store/audit.js';
import { listBreakGlass } from '../src/store/break-glass.js';
import { type Db, openPostgres } from '../src/store/db.js';
import { deploymentHistory } from '../src/store/deployments.js';
import { listProjects, listReleases, resolveRelease } from '../src/store/releases.js';
import { listTrainDeployments, listTrains } from '../src/store/trains.js';
import { listDeliveries } from '../src/store/webhooks.js';
import { freshPostgres } from './support/db.js';

const REPO = 'acme/mono';
const BIG_REPO = 'acme/big';
/** Never read whole: each has a row per release or per event. */
const NEVER_SCANNED = ['releases', 'release_aliases', 'release_triggers', 'deployments', 'audit_log'];

interface Sent {
  text: string;
  params: unknown[];
}

/** A Db that forwards to `db` and keeps every query sent, in transactions too. */
function recording(db: Db, sent: Sent[]): Db {
  return {
    kind: db.kind,
    query: (text, params) => {
      sent.push({ text, params: params ?? [] });
      return db.query(text, params);
    },
    exec: (script) => db.exec(script),
    transaction: (fn) => db.transaction((tx) => fn(recording(tx, sent))),
    close: () => db.close(),
  };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

describe('every list and resolution query uses an index (postgres)', () => {
  let db: Db;
  let drop: () => Promise<void>;
  let trainId: string;

  before(async () => {
    let url: string;
    ({ url, drop } = await freshPostgres());
    await seedReleases({ url }, { repository: REPO, projects: 200, perProject: 50 });
    await seedReleases({ url }, { repository: BIG_REPO, projects: 1, perProject: 5000 });
    db = await openPostgres(url, 2);
    await db.query(
      `insert into release_triggers (release_id, position, type, tag, triggered_by) select id, 1, 'tag', 'v1.0.' || release_number, 'ci' from releases`,
    );
    await db.query(
      `insert into deployments (id, release_id, repository, project, environment, kind, status, deployed_by, deployed_at)
       select gen_random_uuid(), r.id, r.repository, r.project, e, 'deploy', 'superseded', 'seed', now() - r.release_number * interval '1 minute'
       from releases r cross join unnest(array['dev', 'staging']) e where r.repository = $1 and r.release_number <= 25`,
      [REPO],
    );
    await db.query(
      `insert into audit_log (seq, at, actor, action, subject, prev_hash, hash)
       select n, now(), 'seed', 'test.seeded', 's' || n, 'x', 'x' from generate_series(1, 10000) n`,
    );
    await db.query(
      `insert into approvals (id, release_id, release_digest, repository, project, environment, approver, justification, approved_at, expires_at)
       select gen_random_uuid(), r.id, r.oci_digest, r.repository, r.project, case when r.release_number % 2 = 0 then 'production' else 'staging' end,
         'a@example.com', 'ok', now() - r.release_number * interval '1 second', now() + interval '1 day'
       from releases r where r.repository = $1 and r.release_number <= 3000`,
      [BIG_REPO],
    );
    await db.query(
      `insert into break_glass (id, release_id, release_digest, repository, project, environment, reason, requested_by, requested_at)
       select gen_random_uuid(), r.id, r.oci_digest, r.repository, r.project, 'production', 'fire', 'x@example.com',
         now() - r.release_number * interval '1 second'
       from releases r where r.repository = $1 and r.release_number <= 3000`,
      [BIG_REPO],
    );
    await db.query(
      `insert into webhook_deliveries (id, receiver, event_seq, event, body, status, next_attempt_at, created_at)
       select gen_random_uuid(), 'chat', n, 'release.created', '{}', 'delivered', now(), now() - n * interval '1 second'
       from generate_series(1, 3000) n`,
    );
    await db.query(
      `insert into trains (id, name, created_by) select gen_random_uuid(), 'train-' || n, 'seed' from generate_series(1, 3000) n`,
    );
    [{ id: trainId }] = await db.query<{ id: string }>("select id from trains where name = 'train-1'");
    await db.query(
      `insert into train_deployments (id, train_id, environment, kind, deployed_by)
       select gen_random_uuid(), t.id, 'production', 'deploy', 'seed' from trains t cross join generate_series(1, 2)`,
    );
    await db.query('analyze');
  });
  after(async () => {
    await db?.close();
    await drop?.();
  });

  /** The plans of every query `run` sends. */
  async function plansOf(run: (db: Db) => Promise<unknown>): Promise<{ text: string; nodes: PlanNode[] }[]> {
    const sent: Sent[] = [];
    await run(recording(db, sent));
    assert.ok(sent.length, 'the function sent a query');
    const out = [];
    for (const q of sent) {
      const [row] = await db.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(`explain (format json) ${q.text}`, q.params);
      const plan = row['QUERY PLAN'];
      const parsed = (typeof plan === 'string' ? JSON.parse(plan) : plan) as [{ Plan: PlanNode }];
      out.push({ text: q.text, nodes: nodes(parsed[0].Plan) });
    }
    return out;
  }

  /** Asserts no sequential scan of a table read per release or event, and that `index` (or one of them) is walked when given. */
  async function usesIndexes(name: string, run: (db: Db) => Promise<unknown>, index?: string | string[]) {
    const plans = await plansOf(run);
    for (const p of plans) {
      const scanned = p.nodes.filter((n) => n['Node Type'] === 'Seq Scan' && NEVER_SCANNED.includes(n['Relation Name'] ?? ''));
      assert.deepEqual(
        scanned.map((n) => n['Relation Name']),
        [],
        `${name}: a sequential scan in the plan of\n${p.text}`,
      );
    }
    if (index)
      assert.ok(
        plans.some((p) => p.nodes.some((n) => [index].flat().includes(n['Index Name'] ?? ''))),
        `${name}: walks ${index}; plans:\n${plans.map((p) => p.nodes.map((n) => `${n['Node Type']} ${n['Index Name'] ?? n['Relation Name'] ?? ''}`).join(' / ')).join('\n')}`,
      );
  }

  const big = { repository: BIG_REPO, project: 'p0' };
  /** (repository, project, release_number): the unique constraint's index. */
  const RELEASES_BY_NUMBER = 'releases_repository_project_release_number_key';

  test("a project's releases: first page, by offset deep in the list, after a cursor", async () => {
    await usesIndexes('first', (d) => listReleases(d, big.repository, big.project, { offset: 0, limit: 20 }), RELEASES_BY_NUMBER);
    await usesIndexes('offset', (d) => listReleases(d, big.repository, big.project, { offset: 2500, limit: 20 }), RELEASES_BY_NUMBER);
    await usesIndexes(
      'cursor',
      (d) => listReleases(d, big.repository, big.project, { after: [20], offset: 0, limit: 20 }),
      RELEASES_BY_NUMBER,
    );
  });

  test('projects: first page, by offset, after a cursor (the projects table, never the releases)', async () => {
    // A few hundred projects fit in a few pages: the planner may read the projects table whole; the
    // releases it reads are the page's latest, by id.
    await usesIndexes('first', (d) => listProjects(d, { offset: 0, limit: 20 }), 'releases_pkey');
    await usesIndexes('offset', (d) => listProjects(d, { offset: 100, limit: 20 }), 'releases_pkey');
    await usesIndexes('cursor', (d) => listProjects(d, { after: [REPO, 'p150'], offset: 0, limit: 20 }), 'releases_pkey');
  });

  test('resolution by tag, number, sha prefix and full sha', async () => {
    for (const ref of ['v1.0.4000', '4000', seededSha(0, 4000).slice(0, 16), seededSha(0, 4000)])
      await usesIndexes(`resolve ${ref}`, (d) => resolveRelease(d, big.repository, big.project, ref));
  });

  test('deployment history of a slot', async () => {
    await usesIndexes('first', (d) => deploymentHistory(d, 'dev', REPO, 'p7', 20, 0), 'deployments_history');
    await usesIndexes('cursor', (d) => deploymentHistory(d, 'dev', REPO, 'p7', 20, 0, 1_000_000), 'deployments_history');
  });

  test('the audit log', async () => {
    await usesIndexes('first', (d) => listAudit(d, 20, 0), 'audit_log_pkey');
    await usesIndexes('offset', (d) => listAudit(d, 20, 5000), 'audit_log_pkey');
    await usesIndexes('cursor', (d) => listAudit(d, 20, 0, 5000), 'audit_log_pkey');
  });

  test('approvals, break-glass and webhook deliveries walk their keyset indexes', async () => {
    const at = new Date(Date.now() - 1000_000).toISOString().replace('Z', '000Z');
    const id = '00000000-0000-0000-0000-000000000000';
    await usesIndexes('approvals', (d) => listApprovals(d, {}, 20, 0), 'approvals_recent');
    await usesIndexes('approvals after', (d) => listApprovals(d, {}, 20, 0, [at, id]), 'approvals_recent');
    await usesIndexes('approvals of production', (d) => listApprovals(d, { environment: 'production' }, 20, 0, [at, id]), [
      'approvals_queue_keyset',
      'approvals_recent',
    ]);
    await usesIndexes('break-glass', (d) => listBreakGlass(d, {}, 20, 0, [at, id]), 'break_glass_keyset');
    await usesIndexes('deliveries', (d) => listDeliveries(d, {}, 20, 0, [at, 1000, id]), 'webhook_deliveries_keyset');
  });

  test('trains and a train deployments', async () => {
    await usesIndexes('trains', (d) => listTrains(d, 20, 0, 1500), 'trains_seq');
    await usesIndexes('train deployments', (d) => listTrainDeployments(d, trainId, undefined, 20, 0), 'train_deployments_train');
  });
});
