/**
 * The matrix at many projects in a real browser (issue #18; Debian's chromium driven by
 * playwright-core): 250 projects seeded straight into PostgreSQL, the table holds them all
 * (`data-total`) while drawing only the rows near the viewport as `tr[data-project]`; search
 * finds a row not drawn, scrolling to the end draws the last one, and "waits for my approval"
 * keeps the projects whose release waits for the viewer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPostgres } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { freshPostgres } from './support/db.js';
import { startForge } from './support/forge.js';
import { makeRemote } from './support/gitops.js';
import { seededProject, seedProjects } from './support/many-projects.js';
import { buildWeb, launchBrowser } from './support/web.js';

const PROJECTS = 250;

test('250 projects: every one in the table, the rows near the viewport drawn, search, scrolling and waits-for-me reach the others', async (t) => {
  await buildWeb();
  const pg = await freshPostgres();
  t.after(pg.drop);
  const db = await openPostgres(pg.url);
  await migrate(db);
  await seedProjects(db, PROJECTS);
  await db.close();
  const repo = makeRemote({ 'README.md': 'gitops\n' });
  t.after(repo.cleanup);
  const forge = await startForge({ databaseUrl: pg.url, env: { FORGE_GITOPS_URL: repo.remote } });
  t.after(() => forge.stop());
  const { browser, close } = await launchBrowser();
  t.after(close);

  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const overviewAsks: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/overview') overviewAsks.push(r.url());
  });
  await page.goto(forge.url);
  await page.getByLabel('Access token').fill(await forge.token(['developer', 'approver:production'], 'carol@bench.test'));
  await page.getByRole('button', { name: 'Log in' }).click();

  const matrix = page.locator('table.matrix');
  await page.locator(`table.matrix[data-total="${PROJECTS}"]`).waitFor();
  await page.locator(`tr[data-project="${seededProject(0)}"]`).waitFor();
  const drawn = await page.locator('table.matrix tbody tr[data-project]').count();
  assert.ok(drawn > 0 && drawn < PROJECTS, `${drawn} of ${PROJECTS} rows drawn`);
  assert.equal(await page.locator(`tr[data-project="${seededProject(PROJECTS - 1)}"]`).count(), 0);
  assert.equal(overviewAsks.length, 1, `one request for ${PROJECTS} rows: ${overviewAsks.join(' ')}`);
  // what the server judged: release 2 waits for one approval in production (every tenth project has it)
  const prod = (p: number) => page.locator(`tr[data-project="${seededProject(p)}"] td[data-env="production"]`);
  await prod(1).getByText('#2 awaits approval (0 of 1 approval)').waitFor();
  assert.equal(await prod(0).getByText('awaits approval').count(), 0);

  // scrolling to the end draws the last rows
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.locator(`tr[data-project="${seededProject(PROJECTS - 1)}"]`).waitFor();
  assert.equal(await page.locator(`tr[data-project="${seededProject(0)}"]`).count(), 0, 'the first rows are no longer drawn');

  // search reaches a row anywhere, and the table says how many it holds then
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.getByLabel('Search projects').fill(seededProject(137));
  await page.locator(`tr[data-project="${seededProject(137)}"]`).waitFor();
  assert.equal(await matrix.getAttribute('data-total'), '1');
  await page.getByLabel('Search projects').fill('');
  await page.locator(`table.matrix[data-total="${PROJECTS}"]`).waitFor();

  // waits for my approval: the 225 projects whose release 2 is not approved yet
  await page.getByLabel('Waits for my approval').check();
  await page.locator(`table.matrix[data-total="${PROJECTS - PROJECTS / 10}"]`).waitFor();
  assert.equal(await page.locator(`tr[data-project="${seededProject(0)}"]`).count(), 0);
  await page.locator(`tr[data-project="${seededProject(1)}"]`).waitFor();
  assert.deepEqual(problems, []);
});
