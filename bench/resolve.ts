/**
 * bench/resolve: 100,000 releases across 1,000 projects on PostgreSQL; resolve by tag alias,
 * by number and by sha prefix under concurrent load, beside a trivial Fastify route measured
 * in the same run with the same load generator. Targets: p99 under 10 ms and at least 30% of
 * the trivial route's throughput.
 *   npx tsx bench/resolve.ts [--projects 1000] [--per-project 100] [--seconds 10] [--concurrency 32]
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { freshPostgres } from '../test/support/db.js';
import { REPO_ROOT, spawnForge, tempDir } from '../test/support/forge.js';
import { load, printTable } from './load.js';
import { record } from './report.js';
import { seededSha, seedReleases } from './seed.js';

const { values } = parseArgs({
  options: {
    projects: { type: 'string', default: '1000' },
    'per-project': { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
  },
});
const projects = Number(values.projects);
const perProject = Number(values['per-project']);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const pgdb = await freshPostgres();
const seeded = await seedReleases({ url: pgdb.url }, { repository: 'bench/mono', projects, perProject });
const shaOf = seededSha;

const forge = await spawnForge({
  databaseUrl: pgdb.url,
  registry: `oci-layout:${tempDir()}`,
  nodeArgs: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
});
const token = await forge.token(['developer']);
const trivial = spawn(process.execPath, ['--import', 'tsx', 'bench/trivial-server.ts'], {
  cwd: REPO_ROOT,
  stdio: ['ignore', 'ignore', 'pipe'],
});
const trivialUrl = await new Promise<string>((ok) =>
  trivial.stderr!.on('data', (c) => {
    const m = /listening on (\S+)/.exec(String(c));
    if (m) ok(m[1]);
  }),
);

const rnd = (n: number) => Math.floor(Math.random() * n);
const auth = { authorization: `Bearer ${token}` };
const path = (ref: (p: number, n: number) => string) => () => {
  const p = rnd(projects);
  const n = rnd(perProject) + 1;
  return { method: 'GET', path: `/api/v1/releases/bench/mono/p${p}/${ref(p, n)}`, headers: auth };
};
const rows: (string | number)[][] = [['figure', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'vs trivial', 'target']];
try {
  await load({ url: trivialUrl, concurrency, seconds: 2, next: () => ({ method: 'GET', path: '/hello' }) }); // warm-up
  const base = await load({ url: trivialUrl, concurrency, seconds, next: () => ({ method: 'GET', path: '/hello' }) });
  rows.push(['trivial fastify route', base.perSecond, base.p50, base.p99, base.errors, '1.00', '-']);
  for (const [name, ref] of [
    ['resolve by tag alias', (_p: number, n: number) => `v1.0.${n}`],
    ['resolve by number', (_p: number, n: number) => String(n)],
    ['resolve by sha prefix (16)', (p: number, n: number) => shaOf(p, n).slice(0, 16)],
  ] as const) {
    await load({ url: forge.url, concurrency, seconds: 1, next: path(ref) });
    const r = await load({ url: forge.url, concurrency, seconds, next: path(ref) });
    record({
      figure: `resolve: ${name} req/s`,
      value: r.perSecond,
      unit: '/s',
      baseline: base.perSecond,
      target: '>= 0.30 of trivial',
      met: r.perSecond >= 0.3 * base.perSecond,
    });
    record({ figure: `resolve: ${name} p99`, value: r.p99, unit: 'ms', target: '< 10 ms', met: r.p99 < 10 });
    rows.push([name, r.perSecond, r.p50, r.p99, r.errors, (r.perSecond / base.perSecond).toFixed(2), 'p99 < 10 ms, >= 0.30']);
  }
} finally {
  trivial.kill();
  await forge.stop();
  await pgdb.drop();
}
console.log(
  `seeded ${projects * perProject} releases across ${projects} projects in ${seeded.toFixed(1)} s; ${concurrency} concurrent clients, ${seconds} s per figure`,
);
printTable(rows);
