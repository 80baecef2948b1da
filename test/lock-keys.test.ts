/**
 * Advisory lock keys (src/store/lock-keys.ts): a per-subject lock is sent as a simple query with
 * the subject quoted as a literal (so `begin` can share its round trip, issue #18). Subjects hold
 * what users and operators choose (an OIDC subject, a GitOps URL): quoting must keep every one
 * exactly, or replicas would lock different keys for one subject.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Db } from '../src/store/db.js';
import { LockSpace, lockSubject } from '../src/store/lock-keys.js';
import { ENGINES, testDb } from './support/db.js';

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
