/**
 * bench/registry: register 1,000 releases, 50 at a time, on PGlite and on PostgreSQL, with a
 * real docker-registry on loopback and no auto-deploy environment. Prints releases per second
 * and p50/p99 latency. Target: at least 100 releases/s on PostgreSQL.
 *   npx tsx bench/registry.ts [--releases 1000] [--concurrency 50] [--projects 50]
 */
import { parseArgs } from 'node:util';
import { buildReleaseImage } from '../src/core/release-image.js';
import { openReleaseStore } from '../src/registry/index.js';
import { freshPostgres } from '../test/support/db.js';
import { releaseBody, sha, spawnForge, tempDir } from '../test/support/forge.js';
import { startRegistry } from '../test/support/registry.js';
import { load, printTable, summarize } from './load.js';
import { record } from './report.js';

const { values } = parseArgs({
  options: {
    releases: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    projects: { type: 'string', default: '50' },
  },
});
const total = Number(values.releases);
const concurrency = Number(values.concurrency);
const projects = Number(values.projects);

const registry = await startRegistry();
const rows: (string | number)[][] = [
  ['figure', 'releases', 'projects', 'releases/s', 'p50 ms', 'p99 ms', 'errors', 'vs registry', 'target'],
];
try {
  // Baseline: the same images pushed straight to the registry (blobs, manifest, read back), same concurrency.
  const store = openReleaseStore({ registry: registry.host, dataDir: tempDir() });
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const b = releaseBody({}, sha(i + 1)) as { commit: { committed_at: string }; resources: Record<string, unknown>[] };
        const image = buildReleaseImage({
          repository: 'bench/raw',
          project: `p${i % projects}`,
          sha: sha(i + 1),
          releaseNumber: i + 1,
          aliases: [],
          triggers: [],
          source: b.commit,
          artifacts: [],
          resources: b.resources,
        });
        const s = performance.now();
        await store.push(`bench/raw/p${i % projects}`, sha(i + 1), [image.config, image.metadata, image.resources], image.manifest);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const raw = summarize(latencies, (performance.now() - t0) / 1000, 0);
  rows.push(['registry push alone', raw.requests, projects, raw.perSecond, raw.p50, raw.p99, 0, '1.00', '-']);
  for (const engine of ['pglite', 'postgres'] as const) {
    const pgdb = engine === 'postgres' ? await freshPostgres() : undefined;
    const noEnvironments = `${tempDir()}/forge.yaml`;
    (await import('node:fs')).writeFileSync(noEnvironments, 'environments: {}\n');
    const forge = await spawnForge({
      registry: registry.host,
      databaseUrl: pgdb?.url,
      env: { FORGE_CONFIG: noEnvironments },
      nodeArgs: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
    });
    const ci = await forge.token(['service-account']);
    const r = await load({
      url: forge.url,
      concurrency,
      total,
      next: (i) => ({
        method: 'POST',
        path: '/api/v1/releases',
        headers: { authorization: `Bearer ${ci}` },
        body: JSON.stringify(releaseBody({ repository: `bench/${engine}`, project: `p${i % projects}` }, sha(i + 1))),
      }),
      ok: (s) => s === 201,
    });
    record({
      figure: `registry: releases/s on ${engine} (${concurrency} at a time)`,
      value: r.perSecond,
      unit: '/s',
      baseline: raw.perSecond,
      target: engine === 'postgres' ? '>= 100/s' : '-',
      met: engine === 'postgres' ? r.perSecond >= 100 : true,
    });
    record({ figure: `registry: p99 latency on ${engine}`, value: r.p99, unit: 'ms', baseline: raw.p99, target: '-', met: true });
    rows.push([
      `register on ${engine}`,
      r.requests,
      projects,
      r.perSecond,
      r.p50,
      r.p99,
      r.errors,
      (r.perSecond / raw.perSecond).toFixed(2),
      engine === 'postgres' ? '>= 100/s' : '-',
    ]);
    await forge.stop();
    await pgdb?.drop();
  }
} finally {
  await registry.destroy();
}
printTable(rows);
