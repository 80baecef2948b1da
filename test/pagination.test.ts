/**
 * Keyset pagination of every list (issue #18 item "A hundred thousand releases"), on PGlite and
 * on PostgreSQL, over HTTP: for each list, walking every page by its `next` cursor gives the
 * same items, in the same order, as walking by `offset`; `next` is null on the last page; rows
 * added between two requests neither repeat nor skip an item of a cursor walk; a cursor the
 * list did not give is a 400 envelope naming `cursor`. The rows are written straight into the
 * database (several lists order by a timestamp: many rows share one, so the tie-break is
 * exercised), and the projects table (migration 0170) is checked against the releases.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeCursor } from '../src/core/cursor.js';
import { toForgeError } from '../src/server/app.js';
import { appendAudit } from '../src/store/audit.js';
import { type Db, openPglite, openPostgres } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { insertRelease, lockProject, nextReleaseNumber } from '../src/store/releases.js';
import { ENGINES, freshPostgres, testDb } from './support/db.js';
import { type Forge, startForge, tempDir } from './support/forge.js';

const REPO = 'acme/mono';
const BIG = 'big';
const LIMIT = 7;

/** 45 releases of `acme/mono/big`, one of 24 other projects in two repositories, and rows of every other list. */
async function seed(db: Db): Promise<void> {
  await db.query(
    `insert into releases (id, repository, project, commit_sha, release_number, oci_uri, oci_digest, resources_digest, created_by)
     select gen_random_uuid(), $1, $2, md5('big-' || n) || '00000000', n, 'r/' || n, 'sha256:' || md5('d-' || n), 'sha256:0', 'seed'
     from generate_series(1, 45) n`,
    [REPO, BIG],
  );
  await db.query(
    `insert into releases (id, repository, project, commit_sha, release_number, oci_uri, oci_digest, resources_digest, created_by)
     select gen_random_uuid(), case when p % 2 = 0 then 'acme/mono' else 'zeta/other' end, 'svc-' || lpad(p::text, 2, '0'),
       md5('p-' || p) || '00000000', 1, 'r/p' || p, 'sha256:' || md5('p-' || p), 'sha256:0', 'seed'
     from generate_series(1, 24) p`,
  );
  // 30 deployments of dev/acme/mono/big, in 6 groups sharing a time
  await db.query(
    `insert into deployments (id, release_id, repository, project, environment, kind, status, deployed_by, deployed_at)
     select gen_random_uuid(), (select id from releases where project = $1 and release_number = 1 + n % 45), $2, $1, 'dev', 'deploy',
       'superseded', 'seed', now() - (n / 5) * interval '1 minute'
     from generate_series(1, 30) n`,
    [BIG, REPO],
  );
  // approvals, break-glass, deliveries: 30 each, five at each time
  await db.query(
    `insert into approvals (id, release_id, release_digest, repository, project, environment, approver, justification, approved_at, expires_at)
     select gen_random_uuid(), r.id, r.oci_digest, r.repository, r.project, 'production', 'a' || n || '@example.com', 'ok',
       now() - (n / 5) * interval '1 minute', now() + interval '1 day'
     from generate_series(1, 30) n join releases r on r.project = $1 and r.release_number = n`,
    [BIG],
  );
  await db.query(
    `insert into break_glass (id, release_id, release_digest, repository, project, environment, reason, requested_by, requested_at)
     select gen_random_uuid(), r.id, r.oci_digest, r.repository, r.project, 'production', 'fire', 'x@example.com',
       now() - (n / 5) * interval '1 minute'
     from generate_series(1, 30) n join releases r on r.project = $1 and r.release_number = n`,
    [BIG],
  );
  await db.query(
    `insert into webhook_deliveries (id, receiver, event_seq, event, body, status, next_attempt_at, created_at)
     select gen_random_uuid(), case when n % 2 = 0 then 'chat' else 'ci' end, n / 2, 'release.created', '{}', 'delivered', now(),
       now() - (n / 10) * interval '1 minute'
     from generate_series(1, 30) n`,
  );
  await db.query(`insert into trains (id, name, created_by) select gen_random_uuid(), 'train-' || n, 'seed' from generate_series(1, 20) n`);
  await db.query(
    `insert into train_deployments (id, train_id, environment, kind, deployed_by)
     select gen_random_uuid(), (select id from trains where name = 'train-1'), case when n % 3 = 0 then 'staging' else 'production' end,
       'deploy', 'seed'
     from generate_series(1, 25) n`,
  );
  for (let i = 0; i < 30; i++) await appendAudit(db, { actor: 'seed', action: 'test.seeded', subject: `s${i}` });
}

interface ListCase {
  name: string;
  path: string;
  token: () => string;
  /** What identifies an item. */
  id: (item: Record<string, unknown>) => string;
  /** Adds an item that comes first in the list's order (before any cursor taken). */
  insertFirst: (db: Db) => Promise<void>;
}

for (const engine of ENGINES) {
  describe(`keyset pagination of every list (${engine})`, () => {
    let forge: Forge;
    let db: Db;
    let reader: string;
    let operator: string;
    let drop = async () => {};
    let closeDb = async () => {};
    const dataDir = tempDir();

    before(async () => {
      let databaseUrl: string | undefined;
      if (engine === 'postgres') {
        ({ url: databaseUrl, drop } = await freshPostgres());
        db = await openPostgres(databaseUrl, 2);
        await migrate(db);
        await seed(db);
        forge = await startForge({ databaseUrl, dataDir });
        closeDb = () => db.close();
      } else {
        // The embedded engine has one owner: seed it, close it, then let the server open it.
        const seeding = await openPglite(join(dataDir, 'db'));
        await migrate(seeding);
        await seed(seeding);
        await seeding.close();
        forge = await startForge({ dataDir });
      }
      reader = await forge.token(['developer'], 'dev@example.com');
      operator = await forge.token(['operator'], 'ops@example.com');
    });
    after(async () => {
      await forge.stop();
      await closeDb();
      await drop();
    });

    /** Adds rows beside the server (PostgreSQL only: the embedded engine has one owner, the server). */
    const insert = async (sql: string, params: unknown[] = []) => {
      await db.query(sql, params);
    };

    const lists: ListCase[] = [
      {
        name: 'releases of a project',
        path: `/releases/${REPO}/${BIG}`,
        token: () => reader,
        id: (r) => String(r.release_number),
        insertFirst: () =>
          insert(
            `insert into releases (id, repository, project, commit_sha, release_number, oci_uri, oci_digest, resources_digest, created_by)
             values ($1, $2, $3, $4, 46, 'r/46', 'sha256:46', 'sha256:0', 'seed')`,
            [randomUUID(), REPO, BIG, 'f'.repeat(40)],
          ),
      },
      {
        name: 'projects',
        path: '/projects',
        token: () => reader,
        id: (p) => `${p.repository}/${p.project}`,
        insertFirst: () =>
          insert(
            `insert into releases (id, repository, project, commit_sha, release_number, oci_uri, oci_digest, resources_digest, created_by)
             values ($1, 'aaa/first', 'api', $2, 1, 'r/a', 'sha256:a', 'sha256:0', 'seed')`,
            [randomUUID(), 'e'.repeat(40)],
          ),
      },
      {
        name: 'deployment history',
        path: `/deployments/dev/${REPO}/${BIG}/history`,
        token: () => reader,
        id: (d) => String(d.id),
        insertFirst: () =>
          insert(
            `insert into deployments (id, release_id, repository, project, environment, kind, status, deployed_by, deployed_at)
             select $1, id, repository, project, 'dev', 'deploy', 'superseded', 'seed', now() from releases where project = $2 limit 1`,
            [randomUUID(), BIG],
          ),
      },
      {
        name: 'audit log',
        path: '/audit',
        token: () => reader,
        id: (e) => String(e.seq),
        insertFirst: () => appendAudit(db, { actor: 'seed', action: 'test.later', subject: 'later' }),
      },
      {
        name: 'approvals',
        path: '/approvals',
        token: () => reader,
        id: (a) => String(a.id),
        insertFirst: () =>
          insert(
            `insert into approvals (id, release_id, release_digest, repository, project, environment, approver, justification, approved_at, expires_at)
             select $1, id, oci_digest, repository, project, 'production', 'late@example.com', 'ok', now() + interval '1 hour', now() + interval '1 day'
             from releases where project = $2 limit 1`,
            [randomUUID(), BIG],
          ),
      },
      {
        name: 'break-glass',
        path: '/break-glass',
        token: () => reader,
        id: (b) => String(b.id),
        insertFirst: () =>
          insert(
            `insert into break_glass (id, release_id, release_digest, repository, project, environment, reason, requested_by, requested_at)
             select $1, id, oci_digest, repository, project, 'production', 'late', 'x@example.com', now() + interval '1 hour'
             from releases where project = $2 limit 1`,
            [randomUUID(), BIG],
          ),
      },
      {
        name: 'webhook deliveries',
        path: '/webhooks/deliveries',
        token: () => operator,
        id: (d) => String(d.id),
        insertFirst: () =>
          insert(
            `insert into webhook_deliveries (id, receiver, event_seq, event, body, status, next_attempt_at, created_at)
             values ($1, 'late', 1, 'release.created', '{}', 'delivered', now(), now() + interval '1 hour')`,
            [randomUUID()],
          ),
      },
      {
        name: 'trains',
        path: '/trains',
        token: () => reader,
        id: (t) => String(t.id),
        insertFirst: () => insert(`insert into trains (id, name, created_by) values ($1, 'train-late', 'seed')`, [randomUUID()]),
      },
      {
        name: "a train's deployments",
        path: '/trains/train-1/deployments',
        token: () => reader,
        id: (d) => String(d.id),
        insertFirst: () =>
          insert(
            `insert into train_deployments (id, train_id, environment, kind, deployed_by)
             select $1, id, 'production', 'deploy', 'seed' from trains where name = 'train-1'`,
            [randomUUID()],
          ),
      },
    ];

    const get = async (c: ListCase, query: string) => {
      const res = await forge.api('GET', `${c.path}${c.path.includes('?') ? '&' : '?'}${query}`, undefined, c.token());
      assert.equal(res.status, 200, `${c.name}: ${res.text}`);
      return res.body as { items: Record<string, unknown>[]; total: number; limit: number; offset: number; next: string | null };
    };

    /** Every item by offset pages, then by cursor pages; answers both walks and the totals seen. */
    const walk = async (c: ListCase) => {
      const byOffset: string[] = [];
      let total = -1;
      for (let offset = 0; ; offset += LIMIT) {
        const page = await get(c, `limit=${LIMIT}&offset=${offset}`);
        total = page.total;
        byOffset.push(...page.items.map(c.id));
        if (offset + LIMIT >= page.total) {
          assert.equal(page.next, null, `${c.name}: the last page by offset has no next`);
          break;
        }
        assert.ok(page.next, `${c.name}: a page with more after it names the next`);
      }
      const byCursor: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await get(c, `limit=${LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(page.offset, 0);
        assert.equal(page.limit, LIMIT);
        assert.equal(page.total, total, `${c.name}: the total does not depend on how the page is asked for`);
        assert.ok(page.items.length <= LIMIT);
        byCursor.push(...page.items.map(c.id));
        cursor = page.next;
        pages++;
      } while (cursor && pages < 100);
      return { byOffset, byCursor, total };
    };

    for (const c of lists) {
      test(`${c.name}: walking by cursor gives what walking by offset gives`, async () => {
        const { byOffset, byCursor, total } = await walk(c);
        assert.ok(total > LIMIT * 2, `${c.name}: several pages (${total} items)`);
        assert.equal(byOffset.length, total);
        assert.equal(new Set(byOffset).size, total, `${c.name}: no item twice`);
        assert.deepEqual(byCursor, byOffset);
      });

      test(`${c.name}: a cursor this list did not give is a 400 naming the cursor`, async () => {
        for (const bad of ['nope', encodeCursor(['x', 'y', 'z', 'w']), encodeCursor([{}] as never), 'W10']) {
          const res = await forge.api('GET', `${c.path}?cursor=${encodeURIComponent(bad)}`, undefined, c.token());
          assert.equal(res.status, 400, `${c.name} ${bad}: ${res.text}`);
          assert.equal(res.body.error.code, 'validation_error');
          assert.match(res.body.error.message, /cursor: is not a cursor this server gave/);
        }
      });

      test(`${c.name}: a cursor given with an offset is a 400 asking for one of them`, async () => {
        const first = await get(c, `limit=${LIMIT}`);
        assert.ok(first.next);
        for (const offset of [0, 3]) {
          const query = `limit=${LIMIT}&offset=${offset}&cursor=${encodeURIComponent(first.next)}`;
          const res = await forge.api('GET', `${c.path}${c.path.includes('?') ? '&' : '?'}${query}`, undefined, c.token());
          assert.equal(res.status, 400, `${c.name} offset ${offset}: ${res.text}`);
          assert.equal(res.body.error.code, 'validation_error');
          assert.match(res.body.error.message, /offset: give either cursor or offset, not both/);
          assert.deepEqual(
            res.body.error.details.fields.map((f: { path: string }) => f.path),
            ['offset'],
          );
        }
      });
    }

    /** A key of the lists ordered by a timestamp, for a cursor at `at` (the lists' cursor shapes). */
    const timestampKeys: Record<string, (at: string) => (string | number)[]> = {
      approvals: (at) => [at, '00000000-0000-0000-0000-000000000000'],
      'break-glass': (at) => [at, '00000000-0000-0000-0000-000000000000'],
      'webhook deliveries': (at) => [at, 1, '00000000-0000-0000-0000-000000000000'],
    };
    for (const c of lists.filter((l) => l.name in timestampKeys))
      test(`${c.name}: a cursor naming a date or time that does not exist is a 400 naming the cursor, not a 500`, async () => {
        for (const at of [
          '2026-02-31T00:00:00Z',
          '2026-02-30T00:00:00Z',
          '2025-02-29T00:00:00Z',
          '0000-01-01T00:00:00Z',
          '2026-01-01T24:00:00Z',
          '2026-01-01T23:59:60Z',
          '2026-13-01T00:00:00Z',
        ]) {
          const cursor = encodeCursor(timestampKeys[c.name](at));
          const res = await forge.api('GET', `${c.path}?cursor=${cursor}`, undefined, c.token());
          assert.equal(res.status, 400, `${c.name} ${at}: ${res.text}`);
          assert.match(res.body.error.message, /cursor: is not a cursor this server gave/);
        }
        for (const at of ['2024-02-29T00:00:00Z', '2026-12-31T23:59:59.999999Z', '0001-01-01T00:00:00Z']) {
          const cursor = encodeCursor(timestampKeys[c.name](at));
          const res = await forge.api('GET', `${c.path}?cursor=${cursor}`, undefined, c.token());
          assert.equal(res.status, 200, `${c.name} ${at}: ${res.text}`);
        }
      });

    test('the overview and the environments refuse a cursor given with an offset too', async () => {
      for (const path of ['/overview?limit=1', '/environments?limit=1']) {
        const first = await forge.api('GET', path, undefined, reader);
        assert.equal(first.status, 200, `${path}: ${first.text}`);
        assert.ok(first.body.next, `${path}: a second page`);
        const res = await forge.api('GET', `${path}&offset=1&cursor=${encodeURIComponent(first.body.next)}`, undefined, reader);
        assert.equal(res.status, 400, `${path}: ${res.text}`);
        assert.match(res.body.error.message, /offset: give either cursor or offset, not both/);
      }
    });

    if (engine === 'postgres')
      for (const c of lists)
        test(`${c.name}: an item added between two pages neither repeats nor skips an item of the cursor walk`, async () => {
          const before = await walk(c);
          const first = await get(c, `limit=${LIMIT}`);
          await c.insertFirst(db);
          const seen = first.items.map(c.id);
          let cursor = first.next;
          while (cursor) {
            const page = await get(c, `limit=${LIMIT}&cursor=${encodeURIComponent(cursor)}`);
            seen.push(...page.items.map(c.id));
            cursor = page.next;
          }
          assert.deepEqual(seen, before.byCursor);
          const afterwards = await walk(c);
          assert.equal(afterwards.total, before.total + 1, `${c.name}: the total counts the new item`);
          assert.deepEqual(afterwards.byCursor.slice(1), before.byCursor, `${c.name}: the new item comes first`);
        });

    // After the cases above, which on PostgreSQL added release 46 of big and the project aaa/first.
    test('the projects table holds each project with its latest release and how many it has', async () => {
      const page = await get(lists[1], 'limit=200');
      const big = page.items.find((p) => p.project === BIG)!;
      assert.equal((big.latest_release as { release_number: number }).release_number, engine === 'postgres' ? 46 : 45);
      const releases = await get(lists[0], 'limit=1');
      assert.equal(releases.total, engine === 'postgres' ? 46 : 45);
      assert.equal(page.total, page.items.length);
    });
  });
}

for (const engine of ENGINES)
  test(`a date or time the database cannot read is answered as a validation_error, not a 500 (${engine})`, async () => {
    const { db, cleanup } = await testDb(engine);
    try {
      for (const [sql, sqlState] of [
        [`select '2026-02-31T00:00:00Z'::timestamptz`, '22008'],
        [`select 'not a time'::timestamptz`, '22007'],
      ]) {
        const err = await db.query(sql).then(
          () => assert.fail(`${sql} was read`),
          (e: Error) => e,
        );
        assert.equal((err as { code?: string }).code, sqlState);
        const answer = toForgeError(err);
        assert.equal(answer.code, 'validation_error', `${sqlState}: ${answer.message}`);
        assert.match(answer.message, /out of range or cannot be stored/);
      }
    } finally {
      await cleanup();
    }
  });

describe('the projects table under concurrent registrations (postgres)', () => {
  test('releases inserted by many transactions at once, as registration inserts them, leave every project right', async () => {
    const { db, cleanup } = await testDb('postgres');
    try {
      // 8 projects, 10 releases each, 80 transactions at once over a pool of 10 connections:
      // releases of one project serialise on its lock (as registration's), first releases race.
      const register = (project: string, i: number) =>
        db.transaction(async (tx) => {
          await lockProject(tx, REPO, project);
          const n = await nextReleaseNumber(tx, REPO, project);
          await insertRelease(tx, {
            id: randomUUID(),
            repository: REPO,
            project,
            commit_sha: `${project}-${i}`.padEnd(40, '0'),
            release_number: n,
            oci_uri: `r/${project}/${n}`,
            oci_digest: 'sha256:0',
            resources_digest: 'sha256:0',
            created_by: 'ci',
            artifacts: [],
            source: {},
          });
        });
      await Promise.all(Array.from({ length: 80 }, (_, i) => register(`p${i % 8}`, i)));
      const table = await db.query(
        'select repository, project, latest_release_id, latest_release_number, release_count from projects order by 1, 2',
      );
      const truth = await db.query(
        `select distinct on (repository, project) repository, project, id as latest_release_id, release_number as latest_release_number,
           count(*) over (partition by repository, project)::int as release_count
         from releases order by repository, project, release_number desc`,
      );
      assert.equal(table.length, 8);
      assert.deepEqual(table, truth);
      assert.ok(table.every((p) => p.release_count === 10 && p.latest_release_number === 10));
    } finally {
      await cleanup();
    }
  });
});
