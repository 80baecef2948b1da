/**
 * bench/overview (issue #18, acceptance 1): 1,000 projects × 3 environments on the embedded
 * engine (PGlite), served by a `forge serve` of its own:
 *  - `GET /environments` p50, target ≤ 100 ms; baseline `/healthz` p50 on the same server; once
 *    with nothing changing (the read model's kept answer), once right after each of a series of
 *    audited changes (a pin set and removed: the rows are read again);
 *  - `GET /overview` (first page, 500 rows) p50, same baseline;
 *  - the dashboard in Debian's chromium (playwright-core, never a downloaded browser): from the
 *    log-in click until the matrix holds every project's row (`table.matrix[data-total="1000"]`,
 *    the rows near the viewport drawn as `tr[data-project]`, the others virtual until scrolled
 *    to), target ≤ 2 s; baseline: from the same click until the page's shell (its heading)
 *    shows. The requests the page made from its first load until then, target ≤ 10. And how
 *    long the last row takes to be drawn once the page is scrolled to the end;
 *  - `forge status` (the built CLI, `npm run build` first), target ≤ 1 s; baseline `forge
 *    whoami` against the same server.
 * Seeding writes what the read models read straight into the database (two releases per
 * project with tags and triggers; release 2 active in dev, release 1 in staging and production,
 * with dev's earlier deployment superseded; approvals on every tenth project) and one pointer
 * file per active deployment into the embedded GitOps repository in one commit: registering
 * 2,000 releases through the registry would take most of the run and is measured by
 * bench/registry.ts. Figures are printed, never asserted.
 *   node --import tsx bench/overview.ts [--projects 1000] [--runs 20]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pointerPath, type ReleasePointer, renderPointer } from '../src/core/pointer.js';
import { initEmbeddedRemote } from '../src/gitops/remote.js';
import { openPglite } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { REPO_ROOT, spawnForge, tempDir } from '../test/support/forge.js';
import { seededProject, seedProjects } from '../test/support/many-projects.js';
import { buildWeb, launchBrowser } from '../test/support/web.js';
import { benchArgs } from './args.js';
import { printTable } from './load.js';
import { record } from './report.js';

const { values } = benchArgs(import.meta.url, {
  options: { projects: { type: 'string', default: '1000' }, runs: { type: 'string', default: '20' } },
});
const projects = Number(values.projects);
const runs = Number(values.runs);
const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (or npx tsc -p tsconfig.json) first`);
if (statSync(CLI.replace('main.js', 'commands/status.js')).mtimeMs < statSync(join(REPO_ROOT, 'src/cli/commands/status.ts')).mtimeMs)
  console.warn('warning: dist/src/cli is older than src/cli/commands/status.ts: the `forge status` figure is of the last build');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// --- seed ---------------------------------------------------------------------------------
const t0 = performance.now();
const dataDir = tempDir('forge-bench-overview-');
const db = await openPglite(join(dataDir, 'db'));
await migrate(db);
await seedProjects(db, projects);
// the pointers of every active deployment, in one commit of the embedded GitOps repository
const active = await db.query<{
  id: string;
  environment: string;
  repository: string;
  project: string;
  commit_sha: string;
  oci_digest: string;
  release_number: number;
  deployed_by: string;
  deployed_at: string;
}>(
  `select d.id, d.environment, d.repository, d.project, r.commit_sha, r.oci_digest, r.release_number, d.deployed_by, d.deployed_at
   from deployments d join releases r on r.id = d.release_id where d.status = 'active'`,
);
const remote = join(dataDir, 'gitops.git');
initEmbeddedRemote(remote, 'main');
const work = tempDir('forge-bench-gitops-');
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@bench.test', ...args], { cwd: work, encoding: 'utf8' }).trim();
git('init', '--quiet', '--initial-branch=main');
for (const d of active) {
  const pointer: ReleasePointer = {
    repository: d.repository,
    project: d.project,
    environment: d.environment,
    release: d.commit_sha,
    digest: d.oci_digest,
    releaseNumber: d.release_number,
    aliases: [`v1.${d.release_number - 1}.0`],
    deploymentId: d.id,
    deployedBy: d.deployed_by,
    deployedAt: new Date(d.deployed_at).toISOString(),
    approvedBy: [],
  };
  const path = join(work, pointerPath(pointer));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderPointer(pointer));
}
git('add', '-A');
git('commit', '--quiet', '-m', 'bench: pointers');
git('push', '--quiet', remote, 'main');
await db.query(`update deployments set gitops_commit_sha = $1 where status = 'active'`, [git('rev-parse', 'HEAD')]);
rmSync(work, { recursive: true, force: true });
await db.query('analyze');
await db.close();
const seconds = (performance.now() - t0) / 1000;
console.log(
  `seeded ${projects} projects × 3 environments (${2 * projects} releases, ${active.length} active deployments) in ${seconds.toFixed(1)} s`,
);

// --- measure ------------------------------------------------------------------------------
const forge = await spawnForge({ dataDir });
const rows: (string | number)[][] = [['figure', 'value', 'baseline', 'target']];
try {
  const token = await forge.token(['developer', 'approver:production'], 'viewer@bench.test');
  const auth = { authorization: `Bearer ${token}` };
  /** p50 of `runs` sequential GETs of `path`, ms (after two warm-ups); each must answer 200. */
  const p50 = async (path: string, headers: Record<string, string> = auth) => {
    const out: number[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const t = performance.now();
      const res = await fetch(`${forge.url}${path}`, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
      if (i >= 2) out.push(performance.now() - t);
    }
    return median(out);
  };
  const healthz = await p50('/healthz', {});
  const environments = await p50('/api/v1/environments?limit=200');
  record({
    figure: `overview: GET /environments p50 (${projects} projects × 3 environments)`,
    value: environments,
    unit: 'ms',
    baseline: healthz,
    target: '<= 100 ms',
    met: environments <= 100,
  });
  rows.push(['GET /environments p50', `${environments.toFixed(1)} ms`, `/healthz ${healthz.toFixed(1)} ms`, '<= 100 ms']);
  // the same after a change (a pin set or removed, audited: the kept answers are read again)
  const operator = { authorization: `Bearer ${await forge.token(['operator'], 'olga@bench.test')}` };
  const changed: number[] = [];
  for (let i = 0; i < runs; i++) {
    const slot = { repository: 'bench/repo-00', project: seededProject(0), environment: 'dev' };
    const change =
      i % 2 === 0
        ? await fetch(`${forge.url}/api/v1/pins`, {
            method: 'POST',
            headers: { ...operator, 'content-type': 'application/json' },
            body: JSON.stringify(slot),
          })
        : await fetch(`${forge.url}/api/v1/pins/dev/bench/repo-00/${slot.project}`, { method: 'DELETE', headers: operator });
    if (!change.ok) throw new Error(`pin: ${change.status} ${await change.text()}`);
    const t = performance.now();
    const res = await fetch(`${forge.url}/api/v1/environments?limit=200`, { headers: auth });
    await res.arrayBuffer();
    changed.push(performance.now() - t);
  }
  const afterChange = median(changed);
  record({
    figure: 'overview: GET /environments p50 right after a change (read again)',
    value: afterChange,
    unit: 'ms',
    baseline: healthz,
    target: '<= 100 ms',
    met: afterChange <= 100,
  });
  rows.push([
    'GET /environments p50, each right after a change',
    `${afterChange.toFixed(1)} ms`,
    `/healthz ${healthz.toFixed(1)} ms`,
    '<= 100 ms',
  ]);
  const overview = await p50('/api/v1/overview?limit=500');
  record({
    figure: 'overview: GET /overview p50 (500 rows, every cell judged)',
    value: overview,
    unit: 'ms',
    baseline: healthz,
    target: '(serves the dashboard)',
    met: true,
  });
  rows.push(['GET /overview?limit=500 p50', `${overview.toFixed(1)} ms`, `/healthz ${healthz.toFixed(1)} ms`, '-']);

  // the dashboard, in Debian's chromium
  await buildWeb();
  const { browser, close } = await launchBrowser();
  try {
    const shell: number[] = [];
    const all: number[] = [];
    const counts: number[] = [];
    let asked: string[] = [];
    const scrolls: number[] = [];
    const last = seededProject(projects - 1);
    let timeline: string[] = [];
    for (let i = 0; i < 3; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      const page = await context.newPage();
      let requests = 0;
      asked = [];
      page.on('request', (r) => {
        requests++;
        asked.push(`${r.method()} ${new URL(r.url()).pathname}`);
      });
      await page.goto(forge.url);
      await page.getByLabel('Access token').fill(token);
      const t = performance.now();
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Environments' }).waitFor();
      shell.push(performance.now() - t);
      // every project's row is in the table (the rows near the viewport drawn, the rest virtual)
      await page.waitForFunction(
        (n) => {
          const table = document.querySelector('table.matrix');
          return table?.getAttribute('data-total') === String(n) && table.querySelectorAll('tbody tr[data-project]').length > 0;
        },
        projects,
        { timeout: 60_000, polling: 'raf' },
      );
      all.push(performance.now() - t);
      counts.push(requests);
      // and the last one is drawn as soon as the page is scrolled to it
      const s = performance.now();
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await page.locator(`tr[data-project="${last}"]`).waitFor({ timeout: 60_000 });
      scrolls.push(performance.now() - s);
      timeline = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .filter((e) => e.name.includes('/api/v1/'))
          .map((e) => `${new URL(e.name).pathname} ${e.startTime.toFixed(0)}+${e.duration.toFixed(0)} ms`),
      );
      await context.close();
    }
    const rowsMs = median(all);
    const requests = Math.max(...counts);
    record({
      figure: `overview: dashboard, log-in to all ${projects} rows (chromium)`,
      value: rowsMs,
      unit: 'ms',
      baseline: median(shell),
      target: '<= 2000 ms',
      met: rowsMs <= 2000,
    });
    record({
      figure: 'overview: dashboard requests, page load to all rows',
      value: requests,
      unit: 'requests',
      target: '<= 10',
      met: requests <= 10,
    });
    rows.push([
      'dashboard: log-in → all rows (median of 3)',
      `${rowsMs.toFixed(0)} ms`,
      `shell ${median(shell).toFixed(0)} ms`,
      '<= 2000 ms',
    ]);
    rows.push(['dashboard: requests (page load → all rows)', `${requests}`, '-', '<= 10']);
    rows.push(['dashboard: scroll to the end → last row drawn', `${median(scrolls).toFixed(0)} ms`, '-', '-']);
    console.log(`the dashboard's requests: ${asked.join(', ')}`);
    console.log(`its API requests (start+duration since the page's start): ${timeline.join(', ')}`);
  } finally {
    await close();
  }

  // forge status, the built CLI
  const outside = tempDir('forge-bench-cwd-');
  const timeCli = (args: string[]) =>
    new Promise<number>((done, fail) => {
      const t = performance.now();
      const child = spawn(process.execPath, [CLI, ...args, '--server', forge.url], {
        cwd: outside, // no checkout: every repository
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, FORGE_TOKEN: token },
      });
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('exit', (code) =>
        code === 0 ? done(performance.now() - t) : fail(new Error(`forge ${args.join(' ')}: exit ${code}: ${err}`)),
      );
    });
  const cli = async (args: string[]) => {
    const out: number[] = [];
    for (let i = 0; i < 5; i++) out.push(await timeCli(args));
    return median(out);
  };
  const whoami = await cli(['whoami']);
  const status = await cli(['status']);
  rmSync(outside, { recursive: true, force: true });
  record({
    figure: `overview: \`forge status\` (${projects} projects, built CLI)`,
    value: status,
    unit: 'ms',
    baseline: whoami,
    target: '<= 1000 ms',
    met: status <= 1000,
  });
  rows.push(['forge status (median of 5)', `${status.toFixed(0)} ms`, `forge whoami ${whoami.toFixed(0)} ms`, '<= 1000 ms']);
} finally {
  await forge.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log();
printTable(rows);
