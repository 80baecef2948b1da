/**
 * The audit trail (issue 6, acceptance 4): append-only in the database, hash-chained, and any
 * edit, removal or reordering found by verifyAudit, GET /audit/verify and `forge audit verify`.
 * The tamper tests lift the append-only trigger as the table owner, as an attacker with the
 * owner's credentials could.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { appendAudit, listAudit, verifyAudit } from '../src/store/audit.js';
import type { Db } from '../src/store/db.js';
import { ENGINES, freshPostgres, testDb } from './support/db.js';
import { type Forge, releaseBody, runCli, startForge } from './support/forge.js';

async function seed(db: Db, n: number) {
  for (let i = 1; i <= n; i++) {
    await db.transaction((tx) =>
      appendAudit(tx, { actor: `user${i}@example.com`, action: 'test.event', subject: `s${i}`, details: { i, nested: { b: 2, a: 1 } } }),
    );
  }
}

/** Runs SQL with the append-only trigger lifted, then puts it back. */
async function tamper(db: Db, ...statements: string[]) {
  await db.query('alter table audit_log disable trigger audit_log_append_only');
  for (const s of statements) await db.query(s);
  await db.query('alter table audit_log enable trigger audit_log_append_only');
}

for (const engine of ENGINES) {
  describe(`audit log (${engine})`, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => ({ db, cleanup } = await testDb(engine)));
    after(() => cleanup());

    test('entries chain to one another and verify, across pages', async () => {
      await seed(db, 5);
      assert.deepEqual(await verifyAudit(db), { ok: true, checked: 5 });
      assert.deepEqual(await verifyAudit(db, 2), { ok: true, checked: 5 });
      const { items, total } = await listAudit(db, 2, 0);
      assert.equal(total, 5);
      assert.deepEqual(
        items.map((e) => e.seq),
        [5, 4],
      );
      assert.equal(items[1].prev_hash, (await listAudit(db, 1, 2)).items[0].hash);
    });

    test('the database refuses UPDATE, DELETE and TRUNCATE', async () => {
      await assert.rejects(db.query("update audit_log set actor = 'mallory' where seq = 1"), /append-only: UPDATE/);
      await assert.rejects(db.query('delete from audit_log where seq = 5'), /append-only: DELETE/);
      await assert.rejects(db.query('truncate audit_log'), /append-only: TRUNCATE/);
      assert.equal((await listAudit(db, 1, 0)).total, 5);
      assert.equal((await verifyAudit(db)).ok, true);
    });

    test('an edited entry is named', async () => {
      await tamper(db, "update audit_log set actor = 'mallory@example.com' where seq = 3");
      const check = await verifyAudit(db, 2);
      assert.equal(check.ok, false);
      assert.equal(check.first_broken, 3);
      assert.equal(check.checked, 2);
      assert.match(check.reason!, /entry 3 .*was edited/);
      await tamper(db, "update audit_log set actor = 'user3@example.com' where seq = 3");
      assert.equal((await verifyAudit(db)).ok, true, 'putting the content back restores the chain');
    });

    test('an edit in details (jsonb) is found too', async () => {
      await tamper(db, `update audit_log set details = '{"i": 99, "nested": {"a": 1, "b": 2}}' where seq = 4`);
      assert.equal((await verifyAudit(db)).first_broken, 4);
      await tamper(db, `update audit_log set details = '{"nested": {"b": 2, "a": 1}, "i": 4}' where seq = 4`);
      assert.equal((await verifyAudit(db)).ok, true, 'jsonb key order does not matter');
    });

    test('reordered entries are named', async () => {
      await tamper(
        db,
        'update audit_log set seq = -1 where seq = 2',
        'update audit_log set seq = 2 where seq = 3',
        'update audit_log set seq = 3 where seq = -1',
      );
      const check = await verifyAudit(db);
      assert.equal(check.first_broken, 2);
      assert.match(check.reason!, /does not follow entry 1: entries were removed or reordered/);
      await tamper(
        db,
        'update audit_log set seq = -1 where seq = 2',
        'update audit_log set seq = 2 where seq = 3',
        'update audit_log set seq = 3 where seq = -1',
      );
      assert.equal((await verifyAudit(db)).ok, true);
    });

    test('a removed entry is named, also with the later entries renumbered', async () => {
      await tamper(db, 'delete from audit_log where seq = 4');
      const gap = await verifyAudit(db);
      assert.equal(gap.first_broken, 4);
      assert.match(gap.reason!, /entry 4 is missing: the entry after 3 is 5/);
      await tamper(db, 'update audit_log set seq = 4 where seq = 5');
      const renumbered = await verifyAudit(db);
      assert.equal(renumbered.first_broken, 4);
      assert.equal(renumbered.ok, false);
    });
  });
}

describe('audit over HTTP and the CLI (PostgreSQL)', () => {
  let forge: Forge;
  let drop: () => Promise<void>;
  let owner: pg.Client;
  let url: string;
  before(async () => {
    ({ url, drop } = await freshPostgres());
    forge = await startForge({ databaseUrl: url });
    owner = new pg.Client({ connectionString: url });
    await owner.connect();
  });
  after(async () => {
    await owner.end();
    await forge.stop();
    await drop();
  });

  test('release creation and a permission refusal are audited; verify finds an edit; the CLI exits 1 naming it', async () => {
    const ci = await forge.token(['service-account'], 'ci@example.com');
    const dev = await forge.token(['developer'], 'dev@example.com');
    assert.equal((await forge.api('POST', '/releases', releaseBody(), ci)).status, 201);
    const refused = await forge.api('POST', '/releases', releaseBody(), dev);
    assert.equal(refused.status, 403);

    const list = await forge.api('GET', '/audit?limit=200', undefined, dev);
    assert.equal(list.status, 200, list.text);
    const entries = [...list.body.items].reverse(); // oldest first; auto-deploys to dev may be among them
    // The server's first start registered its signing key (issue 13 item 5): entry 1; then the release.
    assert.equal(entries[0].action, 'signing_key.added');
    const created = entries.find((e: { action: string }) => e.action === 'release.created');
    assert.equal(created.seq, 2);
    assert.equal(created.actor, 'ci@example.com');
    const denied = entries.find((e: { action: string }) => e.action === 'auth.permission_denied');
    assert.equal(denied.actor, 'dev@example.com');
    assert.equal(denied.subject, 'POST /api/v1/releases');
    assert.deepEqual(denied.details, { required: 'the service-account role', roles: ['developer'] });
    for (const [i, e] of entries.entries()) assert.equal(e.prev_hash, i ? entries[i - 1].hash : '0'.repeat(64));

    const env = { FORGE_URL: forge.url, FORGE_TOKEN: dev };
    const ok = await runCli(['audit', 'verify'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /ok: \d+ entries, chain intact/);
    const listed = await runCli(['audit', 'list', '-o', 'json', '--limit', '200'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(JSON.parse(listed.stdout).items.some((e: { action: string }) => e.action === 'auth.permission_denied'));

    await owner.query('alter table audit_log disable trigger audit_log_append_only');
    await owner.query(`update audit_log set details = details || '{"trigger": "forged"}' where seq = 2`);
    await owner.query('alter table audit_log enable trigger audit_log_append_only');
    const api = await forge.api('GET', '/audit/verify', undefined, dev);
    assert.equal(api.body.ok, false);
    assert.equal(api.body.first_broken, 2);
    const broken = await runCli(['audit', 'verify'], { env });
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /broken at entry 2: entry 2 \(release\.created acme\/mono\/auth-service\/a{40}\) was edited/);
  });
});
