/**
 * Databases for tests: a fresh PGlite directory, or a fresh database on the machine's
 * PostgreSQL (FORGE_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test).
 * Storage tests run once per engine: `for (const engine of ENGINES)`.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Db, openPglite, openPostgres } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';

export const ENGINES = ['pglite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

const ADMIN_URL = process.env.FORGE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Creates an empty PostgreSQL database and returns its URL; drop() removes it. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `forge_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A migrated database of the given engine and a cleanup function. */
export async function testDb(engine: Engine): Promise<{ db: Db; url?: string; cleanup: () => Promise<void> }> {
  if (engine === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'forge-pglite-'));
    const db = await openPglite(dir);
    await migrate(db);
    return {
      db,
      cleanup: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const { url, drop } = await freshPostgres();
  const db = await openPostgres(url);
  await migrate(db);
  return {
    db,
    url,
    cleanup: async () => {
      await db.close();
      await drop();
    },
  };
}
