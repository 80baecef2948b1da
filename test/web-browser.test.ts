/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real
 * `forge serve`: log in, see the matrix, approve, deploy, roll back and see each change, with
 * the matrix of another user's page updating without a reload. Screenshots of the main views
 * at 1280 px and at phone width go to test-output/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';
import { buildWeb, launchBrowser, SCREENSHOTS } from './support/web.js';

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const PROJECT = 'auth-service';

async function openPage(browser: Browser, forge: Forge, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[1349]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(forge.url);
  return { page, problems, close: () => context.close() };
}

async function logIn(page: Page, token: string) {
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Environments' }).waitFor();
}

const cell = (page: Page, env: string) => page.locator(`tr[data-project="${PROJECT}"] td[data-env="${env}"]`);

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Nothing sticks out sideways: the page reads without horizontal scrolling. */
async function assertNoSideScroll(page: Page, what: string) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `${what} is ${scroll} px wide in a ${width} px window`);
}

test('log in, see the matrix, approve, deploy, roll back, and watch the matrix follow without a reload', async (t) => {
  await buildWeb();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const forge = await startForge();
  t.after(() => forge.stop());
  const { browser, close } = await launchBrowser();
  t.after(close);

  const ci = await forge.token(['service-account'], 'ci@acme.test');
  const bob = await forge.token(['approver:production', 'developer'], 'bob@acme.test');
  const alice = await forge.token(['deployer:production', 'deployer:staging', 'developer'], 'alice@acme.test');
  const register = async (n: number, tag: string, message: string) => {
    const r = await forge.api(
      'POST',
      '/releases',
      releaseBody({
        trigger: { type: 'tag', tag },
        tags: [tag],
        tagging_strategy: 'tag-all',
        commit: { sha: sha(n), author: 'Carol <carol@acme.test>', message, committed_at: '2026-11-20T10:00:00Z', branches: ['main'] },
        resources: [
          { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'auth' }, spec: { replicas: n + 1 } },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'auth-config' }, data: { version: tag } },
        ],
        artifacts: [
          {
            name: 'api-server',
            type: 'container',
            primary_published_uri: `registry.acme.test/auth-service:${tag}`,
            outputs: { uri: `registry.acme.test/auth-service:${tag}`, digest: `sha256:${String(n).repeat(64).slice(0, 64)}` },
          },
        ],
      }),
      ci,
    );
    assert.equal(r.status, 201, r.text);
    return r.body;
  };

  // a bad token is refused with the server's reason
  const bobPage = await openPage(browser, forge);
  t.after(bobPage.close);
  const page = bobPage.page;
  const overviewAsks: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/overview') overviewAsks.push(new URL(r.url()).search);
  });
  await page.getByRole('heading', { name: 'Forge' }).waitFor();
  await shot(page, 'login-1280');
  await page.getByLabel('Access token').fill('not.a.token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('The server refused this token').waitFor();

  // empty state, then the first release appears live
  await logIn(page, bob);
  await page.getByText('No releases yet').waitFor();
  await page.evaluate(() => {
    (window as unknown as { marker: string }).marker = 'not reloaded';
  });
  await register(1, 'v1.0.0', 'First cut of the auth service');
  await cell(page, 'dev').getByText('#1').waitFor(); // auto-deployed to dev
  assert.equal(await page.evaluate(() => (window as unknown as { marker?: string }).marker), 'not reloaded');

  // release 1 goes to production (approved by bob, deployed by alice), then release 2 arrives
  const approved = await forge.api(
    'POST',
    '/approvals',
    { repository: 'acme/mono', project: PROJECT, release: '1', environment: 'production', justification: 'initial rollout' },
    bob,
  );
  assert.equal(approved.status, 201, approved.text);
  const first = await forge.api(
    'POST',
    '/deployments',
    { repository: 'acme/mono', project: PROJECT, environment: 'production', release: '1' },
    alice,
  );
  assert.equal(first.status, 201, first.text);
  await register(2, 'v1.1.0', 'Rotate signing keys every hour');
  // a second project, released from a branch: production's policy does not take branch pushes, so it waits for nothing
  const billing = await forge.api(
    'POST',
    '/releases',
    releaseBody({ project: 'billing', trigger: { type: 'branch_push', branch: 'main' } }, sha(30)),
    ci,
  );
  assert.equal(billing.status, 201, billing.text);

  const prod = cell(page, 'production');
  await prod.getByText('#1').waitFor();
  await prod.getByText('v1.0.0').waitFor();
  await prod.getByText('alice@acme.test').waitFor();
  await prod.getByText('#2 awaits approval (0 of 1 approval)').waitFor();
  assert.match((await prod.getAttribute('class')) ?? '', /waiting/);
  await cell(page, 'dev').getByText('#2').waitFor();
  await page.getByText('1 release waiting for approval').waitFor();
  await page.locator('tr[data-project="billing"] td[data-env="dev"]').getByText('#1').waitFor(); // its auto-deploy landed
  // the table says how many projects it holds, and shows each as a row (issue #18)
  const matrix = page.locator('table.matrix');
  assert.equal(await matrix.getAttribute('data-total'), '2');
  assert.deepEqual(
    await page.locator('table.matrix tbody tr[data-project]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-project'))),
    [PROJECT, 'billing'],
  );
  // search narrows the rows, and the total with them
  await page.getByLabel('Search projects').fill('bill');
  await page.locator(`tr[data-project="${PROJECT}"]`).waitFor({ state: 'detached' });
  assert.equal(await matrix.getAttribute('data-total'), '1');
  await page.getByLabel('Search projects').fill('');
  await cell(page, 'production').waitFor();
  // bob may approve production: "waits for my approval" keeps the project whose release waits for him
  await page.getByLabel('Waits for my approval').check();
  await page.locator('tr[data-project="billing"]').waitFor({ state: 'detached' });
  assert.equal(await matrix.getAttribute('data-total'), '1');
  await page.getByLabel('Waits for my approval').uncheck();
  await page.locator('tr[data-project="billing"]').waitFor();
  await shot(page, 'matrix-awaiting-1280');
  await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), clip: { x: 0, y: 0, width: DESKTOP.width, height: 460 } }); // the README's picture

  // keyboard: skip link, brand, then the navigation; Enter follows a link and focus lands on the new heading
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Environments' }).waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Approvals');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/approvals');
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');

  // bob chooses release 2 for production and sees what it approves; a justification is required
  const item = page.locator(`li[data-env="production"][data-project="${PROJECT}"]`);
  await item.getByText('0 of 1 approval').waitFor();
  await item.getByLabel('Release to approve for production').selectOption('2');
  await item.getByLabel('What approving #2 approves').getByText('Rotate signing keys every hour').waitFor();
  const approve = item.getByRole('button', { name: 'Approve #2 for production' });
  assert.equal(await approve.isDisabled(), true);
  await item.getByLabel('Why may release #2 go to production?').fill('Key rotation reviewed in SEC-42');
  await shot(page, 'approvals-1280');
  await approve.click();
  await page.getByText('Nothing waits for approval').waitFor();
  const given = page.locator('table.approvals tbody tr', { hasText: 'Key rotation reviewed in SEC-42' });
  await given.getByText('active').waitFor();
  await given.getByText('bob@acme.test').waitFor();

  // back on the matrix, bob's page stays open while alice deploys from hers
  await page.getByRole('link', { name: 'Environments' }).click();
  await prod.getByText('#1').waitFor();
  assert.equal(await prod.getByText('awaits approval').count(), 0);
  await page.evaluate(() => {
    (window as unknown as { marker: string }).marker = 'still here';
  });

  const alicePage = await openPage(browser, forge);
  t.after(alicePage.close);
  const a = alicePage.page;
  await logIn(a, alice);
  await a.goto(`${forge.url}/releases/acme/mono/${PROJECT}/2`);
  await a.getByRole('heading', { level: 1, name: `${PROJECT} #2 (v1.1.0)` }).waitFor();
  const panel = a.locator('section[data-env="production"]');
  await panel.getByText('The policy admits this release.').waitFor();
  await panel.getByText('Changes from #1 (running) to #2').click();
  const fieldChange = panel.locator('.semantic-diff .fields li', { hasText: 'spec.replicas' });
  await fieldChange.locator('.del', { hasText: '2' }).waitFor();
  await fieldChange.locator('.add', { hasText: '3' }).waitFor();
  const staging = a.locator('section[data-env="staging"]');
  await staging.getByText('The policy admits this release.').waitFor();
  await a.getByText('sha256:222222222222').first().waitFor(); // the artifact's digest
  await a.getByText('2 manifests (YAML)').click();
  await a.getByLabel('Rendered manifests').getByText('kind: ConfigMap').waitFor();
  await shot(a, 'release-1280');
  overviewAsks.length = 0;
  await panel.getByRole('button', { name: 'Deploy #2 to production…' }).click();
  await panel.getByLabel('Reason for deploying to production (required)').fill('SEC-42 key rotation');
  await panel.getByRole('button', { name: 'Confirm: deploy #2 to production' }).click();
  await panel.getByText('This release runs here.').waitFor();

  // bob's matrix follows, with no reload: the events patch auth-service's row alone
  await prod.getByText('#2').first().waitFor();
  await prod.getByText('v1.1.0').waitFor();
  assert.equal(await page.evaluate(() => (window as unknown as { marker?: string }).marker), 'still here');
  assert.ok(
    overviewAsks.some((search) => new URLSearchParams(search).get('project') === PROJECT),
    `the row was patched: ${overviewAsks.join(' ')}`,
  );
  await shot(page, 'matrix-1280');

  // alice rolls production back from its history
  await a.goto(`${forge.url}/environments/production/acme/mono/${PROJECT}`);
  await a.getByRole('heading', { level: 1, name: `${PROJECT} in production` }).waitFor();
  await a.locator('table.history tbody tr').nth(1).waitFor();
  await a.getByLabel('Reason for the rollback (optional)').fill('login errors after v1.1.0');
  await a.getByRole('button', { name: `Roll back ${PROJECT} in production` }).click();
  const top = a.locator('table.history tbody tr').first();
  await top.getByText('rollback').waitFor();
  await top.getByText('#1').waitFor();
  await top.getByText('active').waitFor();
  await top.getByText('login errors after v1.1.0').waitFor();
  await shot(a, 'history-1280');

  // and bob sees the rollback land: release 1 again, pinned against auto-deploys
  await prod.locator('.badge.rollback').waitFor();
  await prod.getByText('pinned').waitFor();
  await prod.getByText('#1').first().waitFor();
  assert.equal(await page.evaluate(() => (window as unknown as { marker?: string }).marker), 'still here');

  // for bob the policy check explains what is missing: his own approval does not count for his deployment
  await page.goto(`${forge.url}/releases/acme/mono/${PROJECT}/2`);
  await page.locator('section[data-env="production"]').getByText("the deployer's own approval does not count").waitFor();
  // and bob may not deploy to staging: the server's refusal is shown as it is
  const bobStaging = page.locator('section[data-env="staging"]');
  await bobStaging.getByRole('button', { name: 'Deploy #2 to staging' }).click();
  await bobStaging.getByText('may not do this: it needs the deployer:staging or operator role').waitFor();

  // the audit log and its chain
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByText(/Hash chain intact: \d+ entries checked/).waitFor();
  await page.locator('table.audit').getByText('deployment.active').first().waitFor();
  await shot(page, 'audit-1280');

  // bob revokes his approval
  await page.getByRole('link', { name: 'Approvals' }).click();
  const row = page.locator('table.approvals tbody tr', { hasText: 'Key rotation reviewed in SEC-42' });
  await row.getByRole('button', { name: 'Revoke…' }).click();
  await row.getByRole('button', { name: 'Revoke approval' }).click();
  await row.waitFor({ state: 'detached' }); // gone from the active approvals
  await page.locator('table.approvals tbody tr', { hasText: 'initial rollout' }).waitFor();
  await page.getByLabel('Status').selectOption('revoked');
  await page.locator('table.approvals tbody tr', { hasText: 'Key rotation reviewed in SEC-42' }).getByText('revoked').waitFor();

  // phone width: every main view reads without sideways scrolling
  const phone = await openPage(browser, forge, PHONE);
  t.after(phone.close);
  const p = phone.page;
  await logIn(p, alice);
  await cell(p, 'production').getByText('#1').first().waitFor();
  await assertNoSideScroll(p, 'the matrix');
  await shot(p, 'matrix-phone');
  for (const [path, heading, name] of [
    [`/releases/acme/mono/${PROJECT}/2`, `${PROJECT} #2 (v1.1.0)`, 'release-phone'],
    [`/projects/acme/mono/${PROJECT}`, PROJECT, 'project-phone'],
    [`/environments/production/acme/mono/${PROJECT}`, `${PROJECT} in production`, 'history-phone'],
    ['/approvals', 'Approvals', 'approvals-phone'],
    ['/audit', 'Audit log', 'audit-phone'],
  ]) {
    await p.goto(`${forge.url}${path}`);
    await p.getByRole('heading', { level: 1, name: heading }).waitFor();
    await p.waitForFunction(() => !document.querySelector('.state[role="status"]')); // everything loaded
    await assertNoSideScroll(p, path);
    await shot(p, name);
  }

  // the project page lists releases with aliases, triggers, commit and creation
  await a.goto(`${forge.url}/projects/acme/mono/${PROJECT}`);
  const r2 = a.locator('table.releases tbody tr').first();
  await r2.getByText('#2').waitFor();
  await r2.locator('.chip.tag', { hasText: 'v1.1.0' }).waitFor();
  await r2.getByText('tag v1.1.0').waitFor();
  await r2.getByText('Rotate signing keys every hour').waitFor();
  await shot(a, 'project-1280');

  // an unknown release: a clear error, not a blank page
  await a.goto(`${forge.url}/releases/acme/mono/${PROJECT}/v9.9.9`);
  await a.getByRole('alert').getByText('Not found').waitFor();

  for (const x of [bobPage, alicePage, phone]) assert.deepEqual(x.problems, []);
});

test('approvals show what is approved: the approver chooses a release that is not the latest; production asks for confirmation and a reason', async (t) => {
  await buildWeb();
  const forge = await startForge();
  t.after(() => forge.stop());
  const { browser, close } = await launchBrowser();
  t.after(close);
  const ci = await forge.token(['service-account'], 'ci@acme.test');
  const bob = await forge.token(['approver:production', 'developer'], 'bob@acme.test');
  const alice = await forge.token(['deployer:production', 'developer'], 'alice@acme.test');
  const messages = ['First cut', 'Rotate signing keys every hour', 'Experimental: new session store'];
  for (const n of [1, 2, 3]) {
    const tag = `v1.${n - 1}.0`;
    const r = await forge.api(
      'POST',
      '/releases',
      releaseBody(
        {
          trigger: { type: 'tag', tag },
          tags: [tag],
          tagging_strategy: 'tag-all',
          commit: {
            sha: sha(n),
            author: 'Carol <carol@acme.test>',
            message: messages[n - 1],
            committed_at: '2026-11-20T10:00:00Z',
            branches: ['main', `release/1.${n - 1}`],
          },
          resources: [
            { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'auth' }, spec: { replicas: n + 1 } },
            {
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name: 'auth-keys' },
              data: { key: Buffer.from(`secret-${n}`).toString('base64') },
            },
          ],
          artifacts: [{ name: 'api-server', type: 'container', outputs: { digest: `sha256:${String(n).repeat(64)}` } }],
        },
        sha(n),
      ),
      ci,
    );
    assert.equal(r.status, 201, r.text);
    if (n === 1) {
      const approval = await forge.api(
        'POST',
        '/approvals',
        { repository: 'acme/mono', project: PROJECT, release: '1', environment: 'production', justification: 'first' },
        bob,
      );
      assert.equal(approval.status, 201, approval.text);
      const d = await forge.api(
        'POST',
        '/deployments',
        { repository: 'acme/mono', project: PROJECT, environment: 'production', release: '1' },
        alice,
      );
      assert.equal(d.status, 201, d.text);
    }
  }

  // bob: the queue offers the project in production, and nothing is chosen for him
  const bobPage = await openPage(browser, forge);
  t.after(bobPage.close);
  const page = bobPage.page;
  await logIn(page, bob);
  await page.goto(`${forge.url}/approvals`);
  const item = page.locator(`li[data-env="production"][data-project="${PROJECT}"]`);
  const choose = item.getByLabel('Release to approve for production');
  await choose.waitFor();
  assert.equal(await choose.inputValue(), '', 'no release is chosen for the approver');
  assert.equal(await item.getByRole('button', { name: /^Approve / }).count(), 0);
  // he chooses #2, not the newest (#3), and sees what it approves before approving
  await choose.selectOption('2');
  const context = item.getByLabel('What approving #2 approves');
  await context.getByText('#2 (v1.1.0)').waitFor();
  await context.getByText('tag v1.1.0').waitFor();
  await context.getByText('main, release/1.1').waitFor();
  await context.getByText('Carol <carol@acme.test>').waitFor();
  await context.getByText('Rotate signing keys every hour').waitFor();
  await context.getByText(`sha256:${'2'.repeat(64)}`).waitFor();
  await context.getByText('Changes from #1 (runs in production now)').waitFor();
  await context.locator('.semantic-diff .fields li', { hasText: 'spec.replicas' }).locator('.add', { hasText: '3' }).waitFor();
  await context.locator('.semantic-diff .fields li', { hasText: 'data.key' }).getByText('"(hidden)"').first().waitFor();
  assert.equal(await context.getByText(Buffer.from('secret-2').toString('base64')).count(), 0, 'no Secret value on the page');
  await item.getByLabel('Why may release #2 go to production?').fill('Key rotation reviewed in SEC-42');
  await shot(page, 'approval-context-1280');
  await item.getByRole('button', { name: 'Approve #2 for production' }).click();
  await page.locator('table.approvals tbody tr', { hasText: 'Key rotation reviewed in SEC-42' }).getByText('active').waitFor();

  // the record keeps the context shown: release #2 (not #3), with everything the page showed
  const given = await forge.api('GET', '/approvals?environment=production&status=active', undefined, bob);
  const record = given.body.items.find((a: { justification: string }) => a.justification === 'Key rotation reviewed in SEC-42');
  assert.equal(record.release_number, 2);
  assert.equal(record.context.release_number, 2);
  assert.equal(record.context.digest, record.release_digest);
  assert.ok(record.context.aliases.includes('v1.1.0'), String(record.context.aliases));
  assert.deepEqual(record.context.branches, ['main', 'release/1.1']);
  assert.equal(record.context.commit.message, 'Rotate signing keys every hour');
  assert.deepEqual(record.context.artifacts, [{ name: 'api-server', digest: `sha256:${'2'.repeat(64)}` }]);
  assert.deepEqual(record.context.running, { release_number: 1, digest: record.context.running.digest });
  const replicas = record.context.diff.changed.find((c: { kind: string }) => c.kind === 'Deployment').changes;
  assert.deepEqual(replicas, [{ path: 'spec.replicas', old: 2, new: 3 }]);
  assert.ok(!JSON.stringify(record).includes(Buffer.from('secret-2').toString('base64')));

  // alice: deploying #2 to production asks for confirmation and a reason before anything happens
  const alicePage = await openPage(browser, forge);
  t.after(alicePage.close);
  const a = alicePage.page;
  await logIn(a, alice);
  await a.goto(`${forge.url}/releases/acme/mono/${PROJECT}/2`);
  const panel = a.locator('section[data-env="production"]');
  await panel.getByText('The policy admits this release.').waitFor();
  await panel.getByRole('button', { name: 'Deploy #2 to production…' }).click();
  const confirm = panel.getByRole('button', { name: 'Confirm: deploy #2 to production' });
  await confirm.waitFor();
  assert.equal(await confirm.isDisabled(), true, 'a reason is required');
  const before = await forge.api('GET', `/deployments/production/acme/mono/${PROJECT}`, undefined, alice);
  assert.equal(before.body.release_number, 1, 'nothing deployed before the confirmation');
  await panel.getByLabel('Reason for deploying to production (required)').fill('SEC-42 key rotation');
  await shot(a, 'deploy-confirm-1280');
  await confirm.click();
  await panel.getByText('This release runs here.').waitFor();
  const after = await forge.api('GET', `/deployments/production/acme/mono/${PROJECT}`, undefined, alice);
  assert.equal(after.body.release_number, 2);
  assert.equal(after.body.reason, 'SEC-42 key rotation');
  for (const x of [bobPage, alicePage]) assert.deepEqual(x.problems, []);
});

test('without the event stream the matrix still follows a deployment, by polling', async (t) => {
  await buildWeb();
  const forge = await startForge();
  t.after(() => forge.stop());
  const { browser, close } = await launchBrowser();
  t.after(close);
  const ci = await forge.token(['service-account'], 'ci@acme.test');
  const ops = await forge.token(['operator'], 'olga@acme.test');
  for (const n of [1, 2]) {
    const r = await forge.api('POST', '/releases', releaseBody({ trigger: { type: 'branch_push', branch: 'main' } }, sha(n)), ci);
    assert.equal(r.status, 201, r.text);
  }

  const context = await browser.newContext({ viewport: DESKTOP });
  t.after(() => context.close());
  await context.route('**/api/v1/events**', (route) => route.abort()); // a proxy that drops event streams
  const page = await context.newPage();
  await page.goto(forge.url);
  await logIn(page, await forge.token(['developer'], 'dev@acme.test'));
  await page.getByText('Polling every 5 s').waitFor();
  await cell(page, 'staging').getByText('not deployed').waitFor();
  await page.evaluate(() => {
    (window as unknown as { marker: string }).marker = 'not reloaded';
  });

  const d = await forge.api(
    'POST',
    '/deployments',
    { repository: 'acme/mono', project: PROJECT, environment: 'staging', release: '2' },
    ops,
  );
  assert.equal(d.status, 201, d.text);
  await cell(page, 'staging').getByText('olga@acme.test').waitFor();
  await cell(page, 'staging').getByText('#2').waitFor();
  assert.equal(await page.evaluate(() => (window as unknown as { marker?: string }).marker), 'not reloaded');
});
