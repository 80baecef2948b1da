/**
 * No secret in logs, errors or API answers (issue 6, acceptance 6). A real `forge serve`
 * process with its request log on runs a flow with every kind of secret set — bearer tokens
 * (header and ?access_token=), registry credentials, webhook secrets and a token in a webhook
 * URL, GitOps credentials — including failures (registry down, GitOps unreachable, bad
 * tokens); then its stderr and every answer are searched for each secret and its encodings.
 */

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { openReleaseStore } from '../src/registry/index.js';
import { eventually } from './support/eventually.js';
import { type ForgeProcess, releaseBody, runCli, sha, spawnForge, tempDir } from './support/forge.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

/** A secret, and the forms it could leak in (base64 in a Basic header, URL-encoded). */
function forms(secret: string, user?: string): string[] {
  return [secret, encodeURIComponent(secret), ...(user ? [Buffer.from(`${user}:${secret}`).toString('base64')] : [])];
}

/** Whether the request log holds the completion line (with the status) of the request with this id. */
function logged(log: string, requestId: string): boolean {
  return log.split('\n').some((l) => l.includes(`"reqId":"${requestId}"`) && l.includes('"statusCode"'));
}

function assertClean(where: string, text: string, secrets: Record<string, string[]>) {
  for (const [name, variants] of Object.entries(secrets)) {
    for (const v of variants)
      assert.ok(
        !text.includes(v),
        `${name} appears in ${where}:\n${text.slice(Math.max(0, text.indexOf(v) - 300), text.indexOf(v) + 100)}`,
      );
  }
}

describe('secrets stay out of logs, errors and answers', () => {
  let registry: TestRegistry;
  let forge: ForgeProcess;
  let hook: { url: string; hits: number; stop(): Promise<void> };
  const answers: string[] = [];
  const WEBHOOK_SECRET = 'whsec-never-log-me-0123456789';
  const URL_TOKEN = 'url-token-never-log-me-42';
  let tokens: Record<string, string>;
  let stdout = '';
  const logs = () => `${stdout}\n${forge.stderr()}`;

  before(async () => {
    registry = await startRegistry({ auth: 'basic' });
    let hits = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits++;
        res.writeHead(500).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hook = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      get hits() {
        return hits;
      },
      stop: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
    forge = await spawnForge({
      registry: registry.host,
      env: {
        FORGE_LOG: 'on',
        FORGE_REGISTRY_USERNAME: registry.username!,
        FORGE_REGISTRY_PASSWORD: registry.password!,
        FORGE_WEBHOOK_POLL_MS: '50',
        FORGE_WEBHOOK_RETRY_MS: '50',
        FORGE_WEBHOOKS: JSON.stringify([
          { name: 'chat', url: `${hook.url}/hook?token=${URL_TOKEN}`, secret: WEBHOOK_SECRET, max_attempts: 2 },
        ]),
      },
    });
    forge.proc.stdout!.on('data', (c) => (stdout += c)); // the request log (pino writes to stdout)
    tokens = {
      ci: await forge.token(['service-account'], 'ci@example.com'),
      ops: await forge.token(['operator'], 'ops@example.com'),
      deployer: await forge.token(['deployer:staging'], 'dana@example.com'),
      dev: await forge.token(['developer'], 'dev@example.com'),
    };
  });
  after(async () => {
    await forge.stop();
    await hook.stop();
    await registry.destroy();
  });

  const api = async (method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>) => {
    const res = await forge.api(method, path, body, token, headers);
    answers.push(`${method} ${path} → ${res.status} ${res.text}`);
    return res;
  };

  test('a flow with successes and failures', async () => {
    assert.equal((await api('POST', '/releases', releaseBody(), tokens.ci)).status, 201);
    for (const path of [
      '/releases/acme/mono/auth-service',
      '/releases/acme/mono/auth-service/1',
      '/releases/acme/mono/auth-service/1/resources',
      '/projects',
      '/audit',
      '/audit/verify',
      '/environments',
      '/whoami',
      '/webhooks/deliveries',
    ]) {
      assert.equal((await api('GET', path, undefined, tokens.ops)).status, 200, path);
    }
    assert.equal(
      (
        await api(
          'POST',
          '/deployments',
          { repository: 'acme/mono', project: 'auth-service', environment: 'staging', release: '1' },
          tokens.deployer,
        )
      ).status,
      201,
    );
    assert.equal(
      (
        await api(
          'POST',
          '/deployments',
          { repository: 'acme/mono', project: 'auth-service', environment: 'production', release: '1' },
          tokens.deployer,
        )
      ).status,
      403,
    );
    assert.equal((await api('POST', '/releases', releaseBody(), tokens.dev)).status, 403);
    // A token in the query string (EventSource clients) — the request log must not keep it.
    const abort = new AbortController();
    const events = await fetch(`${forge.url}/api/v1/events?access_token=${tokens.dev}`, { signal: abort.signal });
    assert.equal(events.status, 200);
    abort.abort();
    // Tokens that are refused are not echoed.
    const forged = `${tokens.ops.slice(0, -4)}AAAA`;
    assert.equal((await api('GET', '/whoami', undefined, forged)).status, 401);
    assert.equal((await api('GET', '/whoami', undefined, 'sk-live-not-a-jwt-never-log-me')).status, 401);
    // The registry goes away: the error says so, without its credentials.
    await registry.stop();
    const down = await api('POST', '/releases', releaseBody({}, sha(77)), tokens.ci);
    assert.equal(down.status, 503, down.text);
    await registry.start();
    // The webhook receiver fails: its attempts are logged.
    await eventually('two webhook attempts', () => hook.hits >= 2);
    answers.push((await api('GET', '/webhooks/deliveries', undefined, tokens.ops, { 'x-request-id': 'secrets-last' })).text);
    await eventually('the request log line of the last request', () => logged(stdout, 'secrets-last'));

    const secrets = {
      'registry password': forms(registry.password!, registry.username),
      'webhook secret': forms(WEBHOOK_SECRET),
      'webhook URL token': forms(URL_TOKEN),
      'refused token': ['sk-live-not-a-jwt-never-log-me', forged],
      ...Object.fromEntries(Object.entries(tokens).map(([k, v]) => [`${k} bearer token`, forms(v)])),
    };
    assert.match(logs(), /"url":"\/api\/v1\/events\?access_token=\[redacted\]"/, 'the request log is on and was captured');
    assertClean('the server log', logs(), secrets);
    assertClean('the API answers', answers.join('\n'), secrets);
  });
});

describe('GitOps credentials stay out of logs and errors', () => {
  test('an unreachable https GitOps remote with a token', async (t) => {
    const GIT_TOKEN = 'ghp_never-log-me-0123456789';
    const secrets = { 'git token': forms(GIT_TOKEN, 'x-access-token') };
    // The server starts without reaching the remote: the deployment is what contacts it.
    const forge = await spawnForge({
      env: { FORGE_LOG: 'on', FORGE_GITOPS_URL: 'https://127.0.0.1:9/acme/gitops.git', FORGE_GITOPS_TOKEN: GIT_TOKEN },
    });
    t.after(() => forge.stop());
    let stdout = '';
    forge.proc.stdout!.on('data', (c) => (stdout += c));
    const ci = await forge.token(['service-account'], 'ci@example.com');
    assert.equal((await forge.api('POST', '/releases', releaseBody(), ci)).status, 201);
    const res = await forge.api(
      'POST',
      '/deployments',
      { repository: 'acme/mono', project: 'auth-service', environment: 'staging', release: '1' },
      await forge.token(['operator'], 'ops@example.com'),
      { 'x-request-id': 'gitops-deploy' },
    );
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.error.code, 'gitops_unavailable');
    assertClean('the deployment answer', res.text, secrets);
    await eventually('the request log line of the deployment', () => logged(stdout, 'gitops-deploy'));
    assertClean('the server log', `${stdout}\n${forge.stderr()}`, secrets);
  });
});

describe('a registry setting with user:password (issue 19, attack review C)', () => {
  test('forge serve refuses FORGE_REGISTRY=user:PASSWORD@host without printing the password; so does the store itself', async () => {
    const res = await runCli(['serve', '--port', '0', '--data-dir', tempDir()], {
      env: { FORGE_REGISTRY: 'u:Reg-PASSWORD-42@127.0.0.1:1' },
    });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /FORGE_REGISTRY/);
    assert.match(res.stderr, /FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD/);
    assertClean('the error of forge serve', `${res.stdout}\n${res.stderr}`, { 'registry password': forms('Reg-PASSWORD-42') });
    // Entry points that hand a registry to the store directly (a pipeline's publish settings).
    assert.throws(
      () => openReleaseStore({ registry: 'https://u:Reg-PASSWORD-42@registry.example.com/team', dataDir: tempDir() }),
      (err: Error) => /FORGE_REGISTRY .*not shown/.test(err.message) && !err.message.includes('Reg-PASSWORD-42'),
    );
  });
});
