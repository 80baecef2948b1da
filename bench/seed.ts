/**
 * Seeding for the benchmarks at scale (issue #18): `projects` × `perProject` releases of one
 * repository, each with a tag alias `v1.0.<n>`, written straight into the database (a few
 * seconds for 100,000 rows) on either engine. The data directory of an embedded seed is the
 * one `forge serve --data-dir` then opens (its database lives in `<dataDir>/db`).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type Db, openPglite, openPostgres } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { freshPostgres } from '../test/support/db.js';
import { type ForgeOptions, type ForgeProcess, spawnForge, tempDir } from '../test/support/forge.js';

/** The 40-hex commit sha of release `n` of project `p` (distinct per project; the first 16 characters name both). */
export const seededSha = (p: number, n: number) => `${p.toString(16).padStart(8, '0')}${n.toString(16).padStart(8, '0')}`.padEnd(40, 'c');

export interface Seed {
  repository: string;
  projects: number;
  perProject: number;
}

async function fill(db: Db, s: Seed): Promise<void> {
  for (let p = 0; p < s.projects; p++) {
    const ids = Array.from({ length: s.perProject }, () => randomUUID());
    await db.query(
      `insert into releases (id, repository, project, commit_sha, release_number, oci_uri, oci_digest, resources_digest, created_by)
       select id, $5, $1, sha, n, 'r/' || sha, 'sha256:' || repeat('0', 64), 'sha256:' || repeat('0', 64), 'seed'
       from unnest($2::uuid[], $3::text[], $4::int[]) as t(id, sha, n)`,
      [`p${p}`, ids, ids.map((_, n) => seededSha(p, n + 1)), ids.map((_, n) => n + 1), s.repository],
    );
    await db.query(
      `insert into release_aliases (release_id, repository, project, alias, alias_type)
       select id, $4, $1, 'v1.0.' || n, 'tag' from unnest($2::uuid[], $3::int[]) as t(id, n)`,
      [`p${p}`, ids, ids.map((_, n) => n + 1), s.repository],
    );
  }
  await db.query('analyze');
}

/** Seeds a migrated database: PostgreSQL at `target.url`, or the embedded engine of `target.dataDir`. Returns seconds taken. */
export async function seedReleases(target: { url: string } | { dataDir: string }, s: Seed): Promise<number> {
  const t0 = performance.now();
  const db = 'url' in target ? await openPostgres(target.url) : await openPglite(join(target.dataDir, 'db'));
  try {
    await migrate(db);
    await fill(db, s);
  } finally {
    await db.close();
  }
  return (performance.now() - t0) / 1000;
}

export type Engine = 'pglite' | 'postgres';

/** The engines an `--engine pglite|postgres|both` option names. */
export function enginesOf(option: string | undefined): Engine[] {
  const engines: Engine[] = option === 'both' ? ['pglite', 'postgres'] : [option as Engine];
  if (!engines.every((e) => e === 'pglite' || e === 'postgres')) throw new Error('--engine: pglite, postgres or both');
  return engines;
}

/**
 * Runs `measure` against a server on `engine` whose database `seed` filled first (PostgreSQL: a
 * fresh database, dropped after; embedded: a fresh data directory); the server is stopped after.
 */
export async function onSeededServer(
  engine: Engine,
  seed: (target: { url: string } | { dataDir: string }) => Promise<number>,
  measure: (forge: ForgeProcess, seededSeconds: number) => Promise<void>,
  options: ForgeOptions = {},
): Promise<void> {
  const pgdb = engine === 'postgres' ? await freshPostgres() : undefined;
  try {
    const dataDir = pgdb ? undefined : tempDir();
    const seeded = await seed(pgdb ? { url: pgdb.url } : { dataDir: dataDir! });
    const forge = await spawnForge(
      pgdb ? { ...options, databaseUrl: pgdb.url, registry: `oci-layout:${tempDir()}` } : { ...options, dataDir },
    );
    try {
      await measure(forge, seeded);
    } finally {
      await forge.stop();
    }
  } finally {
    await pgdb?.drop();
  }
}
