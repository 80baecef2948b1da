/**
 * Schema migrations (src/store/migrate.ts): every numbered file runs exactly once, in order, also
 * when two replicas start together on one database, and a later start applies nothing.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Db, openPglite, openPostgres } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { ENGINES, type Engine, freshPostgres } from './support/db.js';

const DIR = fileURLToPath(new URL('../src/store/migrations/', import.meta.url));
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.sql'))
  .sort();
const SCRIPTS = new Map(FILES.map((f) => [readFileSync(join(DIR, f), 'utf8'), f]));

/** `db`, noting in `ran` the migration file of every script run through `exec` (in a migration's transaction only migrations use it). */
function recording(db: Db, ran: string[]): Db {
  const wrap = (inner: Db): Db => ({
    kind: inner.kind,
    query: <T>(text: string, params?: unknown[]) => inner.query<T>(text, params),
    exec: <T>(script: string) => {
      ran.push(SCRIPTS.get(script) ?? `a script that is no migration file: ${script.slice(0, 80)}`);
      return inner.exec<T>(script);
    },
    transaction: <T>(fn: (tx: Db) => Promise<T>) => inner.transaction((tx) => fn(wrap(tx))),
    close: () => inner.close(),
  });
  return wrap(db);
}

/** Two replicas' handles on one empty database: two connection pools on PostgreSQL; PGlite has one handle per directory. */
async function emptyDatabase(engine: Engine): Promise<{ replicas: [Db, Db]; cleanup: () => Promise<void> }> {
  if (engine === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'forge-pglite-'));
    const db = await openPglite(dir);
    return {
      replicas: [db, db],
      cleanup: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { url, drop } = await freshPostgres();
  const a = await openPostgres(url);
  const b = await openPostgres(url);
  return {
    replicas: [a, b],
    cleanup: async () => {
      await a.close();
      await b.close();
      await drop();
    },
  };
}

for (const engine of ENGINES) {
  test(`every migration runs exactly once, also with two replicas starting together; a second run applies nothing (${engine})`, async () => {
    assert.ok(FILES.includes('0001_releases.sql'), `migrations found in ${DIR}`);
    const { replicas, cleanup } = await emptyDatabase(engine);
    try {
      const ran: string[] = [];
      const [a, b] = replicas.map((db) => recording(db, ran));
      await Promise.all([migrate(a), migrate(b)]);
      assert.deepEqual(ran, FILES, 'each migration file ran once, in order, between the two replicas');
      const recorded = await a.query<{ name: string; applied_at: string }>('select name, applied_at from schema_migrations order by name');
      assert.deepEqual(
        recorded.map((r) => r.name),
        FILES,
        'each is recorded',
      );

      ran.length = 0;
      await migrate(a);
      await migrate(b);
      assert.deepEqual(ran, [], 'a second run applies nothing');
      assert.deepEqual(await a.query('select name, applied_at from schema_migrations order by name'), recorded, 'and records nothing new');
    } finally {
      await cleanup();
    }
  });
}
