/**
 * bench/registry: register 1,000 releases, 50 at a time, on PGlite and on PostgreSQL, with a
 * real docker-registry on loopback and no auto-deploy environment. Prints releases per second
 * and p50/p99 latency. Target: at least 100 releases/s on PostgreSQL.
 *   npx tsx bench/registry.ts [--releases 1000] [--concurrency 50] [--projects 50]
 */
import { parseArgs } from 'node:util';
import { freshPostgres } from '../test/support/db.js';
import { releaseBody, sha, startForge, tempDir } from '../test/support/forge.js';
import { startRegistry } from '../test/support/registry.js';
import { load, printTable } from './load.js';

const { values } = parseArgs({ options: { releases: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '50' }, projects: { type: 'string', default: '50' } } });
const total = Number(values.releases);
const concurrency = Number(values.concurrency);
const projects = Number(values.projects);

const registry = await startRegistry();
const rows: (string | number)[][] = [['engine', 'releases', 'projects', 'releases/s', 'p50 ms', 'p99 ms', 'errors', 'target']];
try {
  for (const engine of ['pglite', 'postgres'] as const) {
    const pgdb = engine === 'postgres' ? await freshPostgres() : undefined;
    const noEnvironments = `${tempDir()}/forge.yaml`;
    (await import('node:fs')).writeFileSync(noEnvironments, 'environments: {}\n');
    const forge = await startForge({ registry: registry.host, databaseUrl: pgdb?.url, env: { FORGE_CONFIG: noEnvironments } });
    const ci = await forge.token(['service-account']);
    const url = new URL(forge.url);
    const r = await load({
      url: forge.url, concurrency, total,
      next: (i) => ({ method: 'POST', path: '/api/v1/releases', headers: { authorization: `Bearer ${ci}` },
        body: JSON.stringify(releaseBody({ repository: `bench/${engine}`, project: `p${i % projects}` }, sha(i + 1))) }),
      ok: (s) => s === 201,
    });
    rows.push([engine, r.requests, projects, r.perSecond, r.p50, r.p99, r.errors, engine === 'postgres' ? '>= 100/s' : '-']);
    void url;
    await forge.stop();
    await pgdb?.drop();
  }
} finally {
  await registry.stop();
}
printTable(rows);
