/**
 * The dashboard's OIDC log-in in a real browser against a real provider (oidc-provider):
 * authorization code with PKCE, the access token asked for the API audience, roles mapped by
 * the server. Without a configured client the page offers only the token form.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startForge } from './support/forge.js';
import { FORGE_AUDIENCE, startIdp, WEB_CLIENT_ID } from './support/oidc.js';
import { buildWeb, launchBrowser } from './support/web.js';

test('log in through the OIDC issuer, come back to the page asked for, act with the mapped roles', async (t) => {
  await buildWeb();
  const idp = await startIdp({ accounts: { alice: { groups: ['platform-team'] } } });
  t.after(() => idp.stop());
  const forge = await startForge({
    env: {
      FORGE_OIDC_ISSUER: idp.issuer,
      FORGE_OIDC_AUDIENCE: FORGE_AUDIENCE,
      FORGE_OIDC_ROLE_MAP: JSON.stringify({ groups: { 'platform-team': ['operator'] } }),
      FORGE_OIDC_WEB_CLIENT_ID: WEB_CLIENT_ID,
      FORGE_OIDC_WEB_SCOPE: 'openid email forge',
    },
  });
  t.after(() => forge.stop());
  const config = await (await fetch(`${forge.url}/dashboard-config.json`)).json();
  assert.deepEqual(config, {
    oidc: { issuer: idp.issuer, client_id: WEB_CLIENT_ID, audience: FORGE_AUDIENCE, scope: 'openid email forge' },
  });

  const { browser, close } = await launchBrowser();
  t.after(close);
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  t.after(() => context.close());
  const page = await context.newPage();
  // an answer to a log-in this page never started is refused
  await page.goto(`${forge.url}/login/callback?code=abc&state=forged`);
  await page.getByRole('alert').getByText('does not belong to a log-in started here').waitFor();

  await page.goto(`${forge.url}/audit`);
  await page.getByRole('button', { name: 'Log in with single sign-on' }).click();

  // the provider's own log-in and consent pages
  await page.waitForURL((u) => u.origin === idp.issuer);
  await page.locator('input[name="login"]').fill('alice');
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  const consent = page.locator('button[type="submit"]', { hasText: /continue/i });
  await Promise.race([consent.waitFor().then(() => consent.click()), page.waitForURL((u) => u.origin === forge.url)]);

  // back on the page asked for, as alice with the operator role
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/audit');
  await page.getByText('alice@example.com').waitFor();
  assert.match((await page.locator('.subject').getAttribute('title')) ?? '', /operator/);
  await page.getByText(/Hash chain intact/).waitFor();
});

test('without a configured web client the page offers only the token form', async (t) => {
  await buildWeb();
  const forge = await startForge();
  t.after(() => forge.stop());
  assert.deepEqual(await (await fetch(`${forge.url}/dashboard-config.json`)).json(), { oidc: null });
  const { browser, close } = await launchBrowser();
  t.after(close);
  const page = await browser.newPage();
  const answered = page.waitForResponse((r) => r.url().endsWith('/dashboard-config.json'));
  await page.goto(forge.url);
  await answered;
  await page.getByLabel('Access token').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Log in with single sign-on' }).count(), 0);
});
