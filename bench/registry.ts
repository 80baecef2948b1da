/**
 * bench/registry: register 1,000 releases, 50 at a time, on PGlite and on PostgreSQL, with a
 * real docker-registry on loopback and no auto-deploy environment. Prints releases per second
 * and p50/p99 latency. Baseline, in the same run: the same images and their signatures pushed
 * straight to the registry by the same client, the signature beside the image, 50 at a time,
 * run before and after the registrations (the faster run is compared with). The servers run the
 * build (dist/, as `npm start` does; bench/build.ts).
 * Targets (issue 18 acceptance 3): at least 100 releases/s on PostgreSQL, and at least 0.8× the
 * baseline. BENCH_PROFILE=<dir> writes the servers' CPU profiles there.
 *   npx tsx bench/registry.ts [--releases 1000] [--concurrency 50] [--projects 50]
 */
import { canonicalId } from '../src/core/identity.js';
import { buildReleaseImage } from '../src/core/release-image.js';
import { openReleaseStore } from '../src/registry/index.js';
import { loadOrCreateSigningKey, signAndPushRelease } from '../src/signing/index.js';
import { freshPostgres } from '../test/support/db.js';
import { releaseBody, sha, spawnForge, tempDir } from '../test/support/forge.js';
import { startRegistry } from '../test/support/registry.js';
import { benchArgs } from './args.js';
import { buildOnce } from './build.js';
import { load, printTable, summarize } from './load.js';
import { record } from './report.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    releases: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '50' },
    projects: { type: 'string', default: '50' },
  },
});
const total = Number(values.releases);
const concurrency = Number(values.concurrency);
const projects = Number(values.projects);

buildOnce();
const registry = await startRegistry();
const rows: (string | number)[][] = [
  ['figure', 'releases', 'projects', 'releases/s', 'p50 ms', 'p99 ms', 'errors', 'vs registry', 'target'],
];
/**
 * Baseline: the same images pushed straight to the registry (blobs, manifest, read back) with
 * their signatures (signed with a key of its own, pushed at the same time), same concurrency,
 * by a store of its own (nothing known held yet), into repositories of its own (`round`).
 */
async function rawPushes(round: string) {
  const store = openReleaseStore({ registry: registry.host, dataDir: tempDir() });
  const key = loadOrCreateSigningKey(`${tempDir()}/signing-key.pem`);
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const b = releaseBody({}, sha(i + 1)) as { commit: { committed_at: string }; resources: Record<string, unknown>[] };
        const image = buildReleaseImage({
          repository: `bench/${round}`,
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
        const repository = `bench/${round}/p${i % projects}`;
        await Promise.all([
          store.push(repository, sha(i + 1), [image.config, image.metadata, image.resources], image.manifest),
          signAndPushRelease(
            store,
            key,
            repository,
            canonicalId({ repository: `bench/${round}`, project: `p${i % projects}`, sha: sha(i + 1) }),
            { digest: image.manifest.digest, size: image.manifest.size },
          ),
        ]);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return summarize(latencies, (performance.now() - t0) / 1000, 0);
}

try {
  // The baseline runs before and after the registrations, and the faster run is the one compared
  // with: on a shared machine the load drifts between phases, and this errs against Forge.
  const before = await rawPushes('raw-before');
  rows.push([
    'registry push alone (image + signature), before',
    before.requests,
    projects,
    before.perSecond,
    before.p50,
    before.p99,
    0,
    '-',
    '-',
  ]);
  const results: { engine: string; r: Awaited<ReturnType<typeof load>> }[] = [];
  for (const engine of ['pglite', 'postgres'] as const) {
    const pgdb = engine === 'postgres' ? await freshPostgres() : undefined;
    const noEnvironments = `${tempDir()}/forge.yaml`;
    (await import('node:fs')).writeFileSync(noEnvironments, 'environments: {}\n');
    const forge = await spawnForge({
      registry: registry.host,
      databaseUrl: pgdb?.url,
      env: { FORGE_CONFIG: noEnvironments },
      nodeArgs: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [],
      built: true,
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
    results.push({ engine, r });
    await forge.stop();
    await pgdb?.drop();
  }
  const after = await rawPushes('raw-after');
  rows.push([
    'registry push alone (image + signature), after',
    after.requests,
    projects,
    after.perSecond,
    after.p50,
    after.p99,
    0,
    '-',
    '-',
  ]);
  const raw = before.perSecond >= after.perSecond ? before : after;
  for (const { engine, r } of results) {
    record({
      figure: `registry: releases/s on ${engine} (${concurrency} at a time)`,
      value: r.perSecond,
      unit: '/s',
      baseline: raw.perSecond,
      target: engine === 'postgres' ? '>= 100/s' : '-',
      met: engine === 'postgres' ? r.perSecond >= 100 : true,
    });
    record({
      figure: `registry: releases/s on ${engine} against raw pushes of image + signature`,
      value: Number((r.perSecond / raw.perSecond).toFixed(2)),
      unit: '×',
      baseline: 1,
      target: engine === 'postgres' ? '>= 0.8×' : '-',
      met: engine === 'postgres' ? r.perSecond / raw.perSecond >= 0.8 : true,
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
      engine === 'postgres' ? '>= 100/s, >= 0.80' : '-',
    ]);
  }
} finally {
  await registry.destroy();
}
printTable(rows);
