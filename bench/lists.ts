/**
 * bench/lists (issue #18 acceptance 5): lists and projects at 100,000 releases, p50 ≤ 50 ms on
 * any page (first, middle, last; by offset and by cursor), on the embedded engine (PGlite) and
 * on PostgreSQL. Seeded with bench/seed.ts: 1,000 projects × 80 releases in `bench/mono` and
 * one project of 20,000 (`bench/big/p0`, so that a page deep in one project's list means
 * something): 100,000 releases; beside them 100,000 audit entries (one per release, as
 * registration writes) and 10,000 deployments of one slot. Each figure is the p50 of
 * sequential requests (one client) to the spawned `forge serve`; the baseline is `/healthz`'s
 * p50 measured on the same server in the same run.
 *   npx tsx bench/lists.ts [--engine pglite|postgres|both] [--projects 1000] [--per-project 80] [--big 20000] [--requests 100]
 */
import { join } from 'node:path';
import { encodeCursor } from '../src/core/cursor.js';
import { type Db, openPglite, openPostgres } from '../src/store/db.js';
import type { ForgeProcess } from '../test/support/forge.js';
import { benchArgs } from './args.js';
import { load, printTable } from './load.js';
import { record } from './report.js';
import { enginesOf, onSeededServer, seedReleases } from './seed.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    engine: { type: 'string', default: 'both' },
    projects: { type: 'string', default: '1000' },
    'per-project': { type: 'string', default: '80' },
    big: { type: 'string', default: '20000' },
    requests: { type: 'string', default: '100' },
  },
});
const engines = enginesOf(values.engine);
const projects = Number(values.projects);
const perProject = Number(values['per-project']);
const big = Number(values.big);
const requests = Number(values.requests);
const releases = projects * perProject + big;
const DEPLOYMENTS = 10_000;
const TARGET_MS = 50;

/** Audit entries (one per release) and deployments of dev/bench/big/p0, straight into the database. */
async function seedMore(db: Db): Promise<void> {
  await db.query(
    `insert into audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
     select n, now(), 'ci', 'release.created', 'bench/mono/p' || n, '{}', 'x', 'x' from generate_series(1, $1::int) n`,
    [releases],
  );
  await db.query(
    `insert into deployments (id, release_id, repository, project, environment, kind, status, deployed_by, deployed_at)
     select gen_random_uuid(), id, repository, project, 'dev', 'deploy', 'superseded', 'bench', now() - release_number * interval '1 second'
     from releases r cross join generate_series(0, ($1::int - 1) / $2::int) k
     where repository = 'bench/big' and project = 'p0' and release_number + k * $2::int <= $1`,
    [DEPLOYMENTS, big],
  );
  await db.query('analyze');
}

async function seed(target: { url: string } | { dataDir: string }): Promise<number> {
  const t0 = performance.now();
  await seedReleases(target, { repository: 'bench/mono', projects, perProject });
  await seedReleases(target, { repository: 'bench/big', projects: 1, perProject: big });
  const db = 'url' in target ? await openPostgres(target.url) : await openPglite(join(target.dataDir, 'db'));
  try {
    await seedMore(db);
  } finally {
    await db.close();
  }
  return (performance.now() - t0) / 1000;
}

const rows: (string | number)[][] = [['engine', 'page', 'p50 ms', 'p99 ms', 'errors', 'vs /healthz', 'target', 'met']];
const notes: string[] = [];

/** Every list page measured on one engine's server. */
async function measure(engine: 'pglite' | 'postgres', forge: ForgeProcess, seededSeconds: number) {
  const auth = { authorization: `Bearer ${await forge.token(['developer'])}` };
  const p50Of = async (path: string) => {
    const next = () => ({ method: 'GET', path: `/api/v1${path}`, headers: auth });
    await load({ url: forge.url, concurrency: 1, total: Math.max(5, requests / 10), next }); // warm-up
    return load({ url: forge.url, concurrency: 1, total: requests, next });
  };
  const idle = await load({ url: forge.url, concurrency: 1, total: requests * 2, next: () => ({ method: 'GET', path: '/healthz' }) });
  rows.push([engine, '/healthz', idle.p50, idle.p99, idle.errors, '1.00', '-', '-']);
  const cursor = (...key: (string | number)[]) => encodeURIComponent(encodeCursor(key));
  const mid = Math.floor(projects / 2);
  /** An offset of a middle or last page, inside the list whatever the sizes asked (never negative). */
  const at = (offset: number) => Math.max(0, Math.floor(offset));
  const bigMid = at(big / 2);
  const auditMid = at(releases / 2);
  const pages: [string, string][] = [
    [`releases of bench/big/p0 (${big}): first page`, '/releases/bench/big/p0?limit=20'],
    ['releases of bench/big/p0: middle page by offset', `/releases/bench/big/p0?limit=20&offset=${bigMid}`],
    ['releases of bench/big/p0: middle page by cursor', `/releases/bench/big/p0?limit=20&cursor=${cursor(bigMid + 1)}`],
    ['releases of bench/big/p0: last page by offset', `/releases/bench/big/p0?limit=20&offset=${at(big - 20)}`],
    ['releases of bench/big/p0: last page by cursor', `/releases/bench/big/p0?limit=20&cursor=${cursor(Math.min(21, big))}`],
    [`releases of bench/mono/p${mid} (${perProject}): first page`, `/releases/bench/mono/p${mid}?limit=20`],
    [`projects (${projects + 1}): first page`, '/projects?limit=20'],
    ['projects: middle page by offset', `/projects?limit=20&offset=${at(mid)}`],
    ['projects: middle page by cursor', `/projects?limit=20&cursor=${cursor('bench/mono', `p${mid}`)}`],
    ['projects: last page by offset', `/projects?limit=20&offset=${at(projects + 1 - 20)}`],
    ['projects: last page of 200 by offset', `/projects?limit=200&offset=${at(projects + 1 - 200)}`],
    [`audit (${releases}): first page`, '/audit?limit=20'],
    ['audit: middle page by offset', `/audit?limit=20&offset=${auditMid}`],
    ['audit: middle page by cursor', `/audit?limit=20&cursor=${cursor(auditMid)}`],
    ['audit: last page by cursor', `/audit?limit=20&cursor=${cursor(Math.min(21, releases))}`],
    [`deployment history of dev/bench/big/p0 (${DEPLOYMENTS}): first page`, '/deployments/dev/bench/big/p0/history?limit=20'],
    ['deployment history: middle page by offset', `/deployments/dev/bench/big/p0/history?limit=20&offset=${at(DEPLOYMENTS / 2)}`],
    ['deployment history: last page by offset', `/deployments/dev/bench/big/p0/history?limit=20&offset=${at(DEPLOYMENTS - 20)}`],
  ];
  for (const [name, path] of pages) {
    const r = await p50Of(path);
    if (r.errors) notes.push(`${engine}: ${r.errors} errors on ${path}`);
    // A page answered with errors measured the error path, not the page: never a met target.
    const met = r.errors === 0 && r.p50 <= TARGET_MS;
    record({
      figure: `lists (${engine}, ${releases} releases): ${name} p50`,
      value: r.p50,
      unit: 'ms',
      baseline: idle.p50,
      target: `<= ${TARGET_MS} ms`,
      met,
    });
    rows.push([engine, name, r.p50, r.p99, r.errors, (r.p50 / idle.p50).toFixed(1), `p50 <= ${TARGET_MS} ms`, met ? 'yes' : 'NO']);
  }
  notes.push(
    `${engine}: seeded ${releases} releases, ${releases} audit entries and ${DEPLOYMENTS} deployments in ${seededSeconds.toFixed(1)} s`,
  );
}

for (const engine of engines) await onSeededServer(engine, seed, (forge, seeded) => measure(engine, forge, seeded));
console.log(`${requests} sequential requests per page (one client), after ${Math.max(5, requests / 10)} to warm up`);
for (const n of notes) console.log(n);
printTable(rows);
