/**
 * The resolution cache's watch (services/release-cache.ts, store/db.ts watchReleaseChanges;
 * issue #18): the database tells of every change to a release's representation, from this
 * process's transactions before they resolve and from other connections by NOTIFY; while the
 * watch is down the cache is not used, and it is emptied when the watch is back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type AddressInfo, connect, createServer } from 'node:net';
import { describe, test } from 'node:test';
import { ReleaseCache, releaseCache } from '../src/services/release-cache.js';
import { readRelease } from '../src/services/release-reads.js';
import { type Db, openPostgres } from '../src/store/db.js';
import { ENGINES, testDb } from './support/db.js';
import { eventually } from './support/eventually.js';

async function insertRelease(db: Db, project: string, n: number, sha: string): Promise<string> {
  const id = randomUUID();
  await db.query(
    `insert into releases (id, repository, project, commit_sha, release_number, oci_uri, oci_digest, resources_digest, created_by)
     values ($1, 'acme/mono', $2, $3, $4, 'r', 'sha256:0', 'sha256:0', 'test')`,
    [id, project, sha, n],
  );
  return id;
}

const addAlias = (db: Db, id: string, project: string, alias: string) =>
  db.query(`insert into release_aliases (release_id, repository, project, alias, alias_type) values ($1, 'acme/mono', $2, $3, 'tag')`, [
    id,
    project,
    alias,
  ]);

/** The project a change notification names, as `owner/name/project`. */
function projectOf(payload: string): string {
  const p = JSON.parse(payload) as { repository: string; project: string };
  return `${p.repository}/${p.project}`;
}

for (const engine of ENGINES) {
  describe(`release change watch (${engine})`, () => {
    test('a change in a transaction is told before the transaction resolves; the cache drops the project', async (t) => {
      const { db, cleanup } = await testDb(engine);
      t.after(cleanup);
      const cache = new ReleaseCache(db);
      const told: string[] = [];
      const stop = await db.watchReleaseChanges!({
        change: (p) => {
          told.push(p);
          cache.change(p);
        },
        up: () => cache.up(),
        down: () => cache.down(),
      });
      t.after(stop);
      await eventually('the watch up', () => cache.usable);
      const id = await insertRelease(db, 'svc', 1, 'a'.repeat(40));
      assert.equal((await cache.resolve('acme/mono', 'svc', '1'))?.id, id);
      assert.equal(
        (await cache.resolve('acme/mono', 'other', '1')) ?? 'not cached',
        'not cached',
        'an unknown project is the database’s to say',
      );

      told.length = 0;
      await db.transaction((tx) => addAlias(tx, id, 'svc', 'v1'));
      assert.ok(told.map(projectOf).includes('acme/mono/svc'), `told before transaction() resolved: ${told}`);
      const hit = await cache.resolve('acme/mono', 'svc', 'v1');
      assert.equal(hit?.id, id);
      assert.match(hit.body, /"alias":"v1"/);
    });

    test('while the watch is down the cache is not used; when it is back it starts empty', async (t) => {
      const { db, cleanup } = await testDb(engine);
      t.after(cleanup);
      const cache = new ReleaseCache(db); // not watching: changes are told by hand below
      cache.up();
      const id = await insertRelease(db, 'svc', 1, 'b'.repeat(40));
      assert.ok(!(await cache.resolve('acme/mono', 'svc', '1'))?.body.includes('"v9"'));
      await addAlias(db, id, 'svc', 'v9'); // not told: the cache still answers what it read
      assert.ok(!(await cache.resolve('acme/mono', 'svc', '1'))?.body.includes('"v9"'));
      cache.down();
      assert.equal(cache.usable, false);
      assert.equal(await cache.resolve('acme/mono', 'svc', '1'), undefined, 'down: every read goes to the database');
      cache.up();
      assert.ok((await cache.resolve('acme/mono', 'svc', '1'))?.body.includes('"v9"'), 'back up: read again');
    });
  });
}

describe('release change watch across connections (postgres)', () => {
  test("another connection's committed change arrives by NOTIFY; a rolled-back one is not told", async (t) => {
    const { db, url, cleanup } = await testDb('postgres');
    t.after(cleanup);
    const other = await openPostgres(url!);
    t.after(() => other.close());
    const told: string[] = [];
    let up = false;
    const stop = await db.watchReleaseChanges!({ change: (p) => told.push(p), up: () => (up = true), down: () => (up = false) });
    t.after(stop);
    assert.equal(up, true);
    const id = await insertRelease(other, 'remote-svc', 1, 'c'.repeat(40));
    await assert.rejects(
      other.transaction(async (tx) => {
        await addAlias(tx, id, 'remote-svc', 'never');
        throw new Error('rolled back');
      }),
    );
    await other.query(`update deployments set status = status where false`);
    await addAlias(other, id, 'remote-svc', 'v1');
    await eventually('two notifications', () => told.length >= 2, { withinMs: 5000 });
    assert.deepEqual(
      told.map(projectOf),
      ['acme/mono/remote-svc', 'acme/mono/remote-svc'],
      'the insert and the alias; nothing for the rolled-back transaction',
    );
  });

  test('a LISTEN connection that stops delivering without closing turns the watch down, then it comes back (attack review)', async (t) => {
    const { url, cleanup } = await testDb('postgres');
    t.after(cleanup);
    // A TCP proxy to PostgreSQL that can black-hole the LISTEN connection: no FIN, no RST, as
    // a NAT or firewall timeout or a failover behind a virtual IP leaves it.
    const target = new URL(url!);
    const holes: { holed: boolean }[] = [];
    const proxy = createServer((c) => {
      const s = connect(Number(target.port || 5432), target.hostname);
      const hole = { holed: false };
      c.on('data', (d) => {
        if (d.includes('listen forge_release_changes')) holes.push(hole);
        if (!hole.holed) s.write(d);
      });
      s.on('data', (d) => {
        if (!hole.holed) c.write(d);
      });
      for (const [a, b] of [
        [c, s],
        [s, c],
      ]) {
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
      }
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    t.after(() => {
      proxy.close();
    });
    const viaProxy = new URL(url!);
    viaProxy.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const db = await openPostgres(viaProxy.href);
    t.after(() => db.close());
    const states: string[] = [];
    const stop = await db.watchReleaseChanges!({ change: () => {}, up: () => states.push('up'), down: () => states.push('down') }, 200);
    t.after(stop);
    assert.deepEqual(states, ['up']);
    await new Promise((ok) => setTimeout(ok, 700));
    assert.deepEqual(states, ['up'], 'heartbeats arrive: the watch stays up');
    for (const h of holes) h.holed = true;
    await eventually('the watch is down', () => states.includes('down'), { withinMs: 3000 });
    await eventually('reconnected and up again', () => states.at(-1) === 'up' && states.length >= 3, { withinMs: 5000 });
  });
});

describe('release reads confirm a 404 from memory (postgres)', () => {
  test('a release committed elsewhere whose notification has not arrived is still found (attack review)', async (t) => {
    const { db, url, cleanup } = await testDb('postgres');
    t.after(cleanup);
    const cache = releaseCache(db);
    await eventually('the cache is usable', () => cache.usable, { withinMs: 5000 });
    // the notification of this first insert (autocommit, told by NOTIFY only) must have arrived
    // before the project is loaded: arriving late, it would drop the project and the read of
    // release 2 below would load it afresh (as it did once on a loaded CI machine)
    const told: string[] = [];
    const change = cache.change.bind(cache);
    cache.change = (project) => {
      told.push(project);
      change(project);
    };
    await insertRelease(db, 'quiet-svc', 1, 'd'.repeat(40));
    await eventually('release 1 is told', () => told.length > 0, { withinMs: 5000 });
    const ctx = { db } as Parameters<typeof readRelease>[0];
    assert.match((await readRelease(ctx, { owner: 'acme', name: 'mono', project: 'quiet-svc' }, '1')).body, /"release_number":1/);
    assert.ok(await cache.resolve('acme/mono', 'quiet-svc', '1'), 'the project is held');
    // another writer whose change is not told: triggers off for its session (as if the notification were late)
    const other = await openPostgres(url!);
    t.after(() => other.close());
    await other.transaction(async (tx) => {
      await tx.query('set local session_replication_role = replica');
      await insertRelease(tx, 'quiet-svc', 2, 'e'.repeat(40));
    });
    await assert.rejects(cache.resolve('acme/mono', 'quiet-svc', '2'), /no release/, 'memory alone does not know it yet');
    assert.equal(told.length, 1, 'nothing told of release 2');
    const read = await readRelease(ctx, { owner: 'acme', name: 'mono', project: 'quiet-svc' }, '2');
    assert.match(read.body, /"release_number":2/);
  });
});
