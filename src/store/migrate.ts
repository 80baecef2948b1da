/**
 * Schema migrations: numbered SQL files in ./migrations, applied in order, once, under an
 * advisory lock so that replicas starting together on one PostgreSQL do not race.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';
import { LOCK_MIGRATIONS, lockFixed } from './lock-keys.js';

const DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export async function migrate(db: Db): Promise<void> {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  await db.transaction(async (tx) => {
    await lockFixed(tx, LOCK_MIGRATIONS);
    await tx.query('create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())');
    const done = new Set((await tx.query<{ name: string }>('select name from schema_migrations')).map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      await tx.exec(readFileSync(DIR + file, 'utf8'));
      await tx.query('insert into schema_migrations (name) values ($1)', [file]);
    }
  });
}
