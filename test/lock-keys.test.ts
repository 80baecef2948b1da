/**
 * Advisory lock keys (src/store/lock-keys.ts): a per-subject lock is sent as a simple query with
 * the subject quoted as a literal (so `begin` can share its round trip, issue #18). Subjects hold
 * what users and operators choose (an OIDC subject, a GitOps URL): quoting must keep every one
 * exactly, or replicas would lock different keys for one subject.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { type Db, openPostgres } from '../src/store/db.js';
import { LockSpace, lockSubject } from '../src/store/lock-keys.js';
import { ENGINES, freshPostgres, testDb } from './support/db.js';

const SUBJECTS = [
  "approve:sha256:ab/prod/o'brien@example.com",
  'gitops:https://host/a\\b\\\\c.git',
  "a\\'; select pg_sleep(10); --",
  'E\'x\\n\' $$ $q$ "quoted" ünïcödé 🚀',
];

/** The advisory lock this transaction holds, as PostgreSQL keys it (classid high 32 bits, objid low). */
async function heldKey(tx: Db): Promise<string> {
  const rows = await tx.query<{ key: string }>(
    `select ((classid::bigint << 32) | objid::bigint)::text as key from pg_locks
      where locktype = 'advisory' and objsubid = 1 and pid = pg_backend_pid()`,
  );
  assert.equal(rows.length, 1, `one advisory lock held: ${JSON.stringify(rows)}`);
  return rows[0].key;
}

for (const engine of ENGINES) {
  test(`${engine}: a subject with quotes, backslashes and dollar signs locks the key its text hashes to`, async (t) => {
    const { db, cleanup } = await testDb(engine);
    t.after(cleanup);
    for (const subject of SUBJECTS) {
      await db.transaction(async (tx) => {
        await lockSubject(tx, 'approval', subject);
        const [want] = await tx.query<{ key: string }>(
          // the key as a parameterised query computes it
          'select hashtextextended($1, $2)::text as key',
          [subject, LockSpace.approval],
        );
        assert.equal(await heldKey(tx), want.key, subject);
      });
    }
  });
}

// The quoting is exact only in an encoding where no multibyte character holds a quote or a
// backslash byte. `pg` asks for UTF8 in every connection's startup message, which a database's or
// role's client_encoding default does not override: this keeps it so.
test('postgres: a database whose connections default to another client encoding (SJIS) still locks each subject by its text', async (t) => {
  const { url, drop } = await freshPostgres();
  t.after(drop);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`alter database ${new URL(url).pathname.slice(1)} set client_encoding = 'SJIS'`);
  await admin.end();
  const db = await openPostgres(url);
  t.after(() => db.close());
  // ā is C4 81 in UTF-8; read as Shift JIS, 81 is a lead byte that takes the backslash after it
  for (const subject of ["approve:sha256:ab/prod/ā\\x'", "ā\\\\ā'"]) {
    await db.transaction(async (tx) => {
      await lockSubject(tx, 'approval', subject);
      const [want] = await tx.query<{ key: string }>('select hashtextextended($1, $2)::text as key', [subject, LockSpace.approval]);
      assert.equal(await heldKey(tx), want.key, subject);
    });
  }
});
