import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, testDb } from './support/db.js';
import { migrate } from '../src/store/migrate.js';

for (const engine of ENGINES) {
  test(`migrations apply once and are idempotent (${engine})`, async () => {
    const { db, cleanup } = await testDb(engine);
    try {
      await Promise.all([migrate(db), migrate(db)]);
      const rows = await db.query<{ name: string }>('select name from schema_migrations order by name');
      assert.ok(rows.some((r) => r.name === '0001_releases.sql'));
      assert.equal(new Set(rows.map((r) => r.name)).size, rows.length);
    } finally {
      await cleanup();
    }
  });
}
