/**
 * The dashboard shows what Argo CD reports (issue 15), in Debian's chromium against a real
 * server, Argo CD being the stand-in of test/support/argocd.ts (v3.6.0 API schema, not a live
 * one): sync and health in the matrix cell, following a change without a reload; the
 * deployment's timeline; the DORA page with its chart. Screenshots go to
 * test-output/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { application, notify } from './support/argocd.js';
import { releaseBody, sha, startForge } from './support/forge.js';
import { buildWeb, launchBrowser, SCREENSHOTS } from './support/web.js';

test('matrix cell sync/health (live), the deployment timeline and the DORA chart', async (t) => {
  await buildWeb();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const forge = await startForge();
  t.after(() => forge.stop());
  const { browser, close } = await launchBrowser();
  t.after(close);
  const ci = await forge.token(['service-account'], 'ci@acme.test');
  const dev = await forge.token(['developer'], 'dana@acme.test');
  const argo = await forge.token(['integration:argocd'], 'argocd');
  assert.equal((await forge.api('POST', '/releases', releaseBody({}, sha(1)), ci)).status, 201);
  const slot = '/deployments/dev/acme/mono/auth-service';
  let d: { gitops_commit_sha: string } | undefined;
  for (let i = 0; i < 400 && !d?.gitops_commit_sha; i++) {
    const r = await forge.api('GET', slot, undefined, dev);
    d = r.status === 200 ? r.body : undefined;
    if (!d?.gitops_commit_sha) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(d?.gitops_commit_sha, 'release 1 auto-deployed to dev');
  const report = (health: 'Healthy' | 'Degraded') =>
    notify(
      { 'forge-url': forge.url, 'forge-argocd-token': argo },
      application(
        {
          name: 'auth-dev',
          path: 'dev/apps/acme/mono/auth-service',
          // the embedded GitOps repository: without FORGE_ARGOCD_REPO_URL, Applications name it by its path
          repoURL: join(forge.dataDir, 'gitops.git'),
          sync: 'Synced',
          revision: d!.gitops_commit_sha,
          health,
          phase: 'Succeeded',
        },
        true,
      ),
    );
  assert.deepEqual((await report('Healthy')).body.events, ['deployment.synced', 'deployment.healthy']);

  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
  t.after(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(forge.url);
  await page.getByLabel('Access token').fill(dev);
  await page.getByRole('button', { name: 'Log in' }).click();
  const cell = page.locator('tr[data-project="auth-service"] td[data-env="dev"]');
  await cell.locator('.cluster-sync', { hasText: 'Synced' }).waitFor();
  await cell.locator('.cluster-health', { hasText: 'Healthy' }).waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'argocd-matrix-1280.png'), fullPage: true });
  // Degraded arrives: the cell follows without a reload
  await report('Degraded');
  await cell.locator('.cluster-health.fail', { hasText: 'Degraded' }).waitFor();

  await page.goto(`${forge.url}/environments/dev/acme/mono/auth-service`);
  const timeline = page.locator('ol.timeline');
  await timeline.waitFor();
  for (const step of ['committed', 'synced', 'healthy', 'degraded'])
    assert.equal(
      await timeline.locator(`li[data-step="${step}"]`).getAttribute('class'),
      `reached ${step === 'degraded' ? 'fail' : 'ok'}`,
      step,
    );
  await page.getByText('Argo CD: Synced / Degraded').waitFor();
  await page.screenshot({ path: join(SCREENSHOTS, 'argocd-timeline-1280.png'), fullPage: true });

  await page.getByRole('link', { name: 'DORA' }).click();
  await page.getByRole('heading', { level: 1, name: 'DORA metrics' }).waitFor();
  await page.getByText('Change failure rate').waitFor();
  assert.equal(await page.locator('.dora dd').nth(2).textContent(), '100 %');
  assert.ok((await page.locator('.dora-chart rect.bar').count()) >= 2);
  await page.screenshot({ path: join(SCREENSHOTS, 'dora-1280.png'), fullPage: true });
  assert.deepEqual(problems, []);
});
