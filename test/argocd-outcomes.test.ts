/**
 * Issue 15, what Forge does with what Argo CD reports (stand-in: test/support/argocd.ts, Argo
 * CD v3.6.0's API schema, not a live Argo CD): automatic rollback, verification gates (the
 * refusal with its time, the auto-deploy that waits and goes out), DORA over the API, and the
 * integration endpoint's guard (only integration:argocd; malformed and huge bodies).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSettings } from '../src/server/settings.js';
import { startServer } from '../src/server/start.js';
import { type AppState, application, goJson, notify } from './support/argocd.js';
import { eventually } from './support/eventually.js';
import { type Forge, releaseBody, sha, startForge, tempDir } from './support/forge.js';
import { git, makeRemote } from './support/gitops.js';

const CONFIG = `
environments:
  dev:
    promotion_policy:
      allowed_triggers: [branch_push, tag, manual]
      auto_deploy: true
      auto_rollback: { on: [degraded, sync_failed], within: 15m }
  qa:
    promotion_policy:
      allowed_triggers: [branch_push, tag, manual]
      auto_deploy: true
      requires: [{ environment: dev, healthy_for: 2s }]
  staging:
    promotion_policy:
      allowed_triggers: [branch_push, tag, manual]
      auto_rollback: { on: [degraded], within: 1s }
  production:
    promotion_policy:
      allowed_triggers: [branch_push, tag, manual]
      requires: [{ environment: staging, healthy_for: 1h }]
`;

interface Setup {
  f: Forge;
  remote: string;
  ci: string;
  ops: string;
  argo: string;
  dev: string;
}

async function setup(t: { after(fn: () => unknown): void }): Promise<Setup> {
  const repo = makeRemote({ 'README.md': 'gitops\n' });
  t.after(repo.cleanup);
  const dir = tempDir();
  const config = join(dir, 'forge.yaml');
  writeFileSync(config, CONFIG);
  const f = await startForge({ env: { FORGE_GITOPS_URL: repo.remote, FORGE_CONFIG: config, FORGE_ARGOCD_POLL_MS: '100' } });
  t.after(() => f.stop());
  return {
    f,
    remote: repo.remote,
    ci: await f.token(['service-account'], 'ci'),
    ops: await f.token(['operator'], 'olga@acme.test'),
    argo: await f.token(['integration:argocd'], 'argocd-notifications@cluster-a'),
    dev: await f.token(['developer'], 'dan@acme.test'),
  };
}

async function release(s: Setup, n: number) {
  const r = await s.f.api('POST', '/releases', releaseBody({}, sha(n)), s.ci);
  assert.ok(r.status === 201 || r.status === 200, r.text);
  return r.body;
}

const current = async (s: Setup, env: string) => {
  const r = await s.f.api('GET', `/deployments/${env}/acme/mono/auth-service`, undefined, s.dev);
  return r.status === 200 ? r.body : undefined;
};
const history = async (s: Setup, env: string) =>
  (await s.f.api('GET', `/deployments/${env}/acme/mono/auth-service/history?limit=200`, undefined, s.dev)).body.items;
const app = (s: Setup, env: string, over: Partial<AppState>): AppState => ({
  name: `auth-service-${env}`,
  path: `${env}/apps/acme/mono/auth-service`,
  repoURL: s.remote,
  sync: 'Synced',
  revision: '',
  health: 'Healthy',
  phase: 'Succeeded',
  ...over,
});
const post = (s: Setup, a: AppState) => notify({ 'forge-url': s.f.url, 'forge-argocd-token': s.argo }, application(a, true));
const auditOf = async (s: Setup) =>
  (await s.f.api('GET', '/audit?limit=200', undefined, s.ops)).body.items as {
    action: string;
    subject: string;
    actor: string;
    details: any;
  }[];

test('degraded within the window: exactly one forward rollback to the last healthy release, pinned, with why; the gated auto-deploy goes out once the gate is met; DORA', async (t) => {
  const s = await setup(t);
  // release 1: auto-deployed to dev; qa refuses it (the gate: healthy in dev for 2s)
  await release(s, 1);
  const d1 = await eventually(
    'release 1 active in dev',
    async () => (await current(s, 'dev'))?.status === 'active' && (await current(s, 'dev')),
  );
  const qaRefused = (await history(s, 'qa'))[0];
  assert.equal(qaRefused.status, 'failed');
  const gate = qaRefused.policy_checks.find((c: { name: string }) => c.name === 'verification');
  assert.equal(gate.ok, false);
  assert.match(gate.reason, /must have been healthy in dev for 2s; it is not healthy there now/);

  // dev reports release 1 healthy: the qa auto-deploy goes out by itself once 2 s have passed
  assert.deepEqual((await post(s, app(s, 'dev', { revision: d1.gitops_commit_sha }))).body.events, [
    'deployment.synced',
    'deployment.healthy',
  ]);
  const healthySince = Date.parse((await current(s, 'dev')).timeline.healthy_at);
  const qa = await eventually('release 1 auto-deployed to qa', async () => {
    const c = await current(s, 'qa');
    return c?.release_number === 1 ? c : undefined;
  });
  assert.equal(qa.kind, 'auto');
  assert.equal(qa.deployed_by, 'forge:auto-deploy');
  assert.ok(Date.parse(qa.deployed_at) >= healthySince + 2000, 'not before the gate was met');
  await sleep(300); // a few more sweeps: still one
  assert.deepEqual(
    (await history(s, 'qa')).map((d: { release_number: number; status: string }) => [d.release_number, d.status]),
    [
      [1, 'active'],
      [1, 'failed'],
    ],
  );

  // release 2 goes to dev and turns Degraded: one automatic rollback to release 1, pinned
  await release(s, 2);
  const d2 = await eventually('release 2 active in dev', async () => {
    const c = await current(s, 'dev');
    return c?.release_number === 2 ? c : undefined;
  });
  await post(s, app(s, 'dev', { revision: d2.gitops_commit_sha, health: 'Progressing' }));
  const degraded = await post(s, app(s, 'dev', { revision: d2.gitops_commit_sha, health: 'Degraded' }));
  assert.deepEqual(degraded.body.events, ['deployment.degraded']);
  const rolledBack = await eventually(
    'the automatic rollback',
    async () => {
      const c = await current(s, 'dev');
      return c?.kind === 'rollback' ? c : undefined;
    },
    { withinMs: 60_000 },
  );
  assert.deepEqual([rolledBack.release_number, rolledBack.deployed_by, rolledBack.previous_release_number], [1, 'forge:auto-rollback', 2]);
  assert.match(rolledBack.reason, /automatic rollback: release 2 turned Degraded in dev within 15m/);
  assert.equal(git(s.remote, 'log', '-1', '--format=%H', 'main'), rolledBack.gitops_commit_sha);
  assert.match(
    git(s.remote, 'log', '-1', '--format=%B', 'main'),
    /^Rollback auth-service in dev to release 1 .*\n[\s\S]*Rolled back by: forge:auto-rollback/,
  );
  const envs = await s.f.api('GET', '/environments', undefined, s.dev);
  assert.equal(envs.status, 200, envs.text);
  assert.equal(envs.body.items.find((e: { name: string }) => e.name === 'dev').deployments[0].pinned, true);
  const rb = (await auditOf(s)).filter((e) => e.action === 'deployment.rolled_back');
  assert.equal(rb.length, 1);
  assert.deepEqual([rb[0].subject, rb[0].details.cause, rb[0].details.rolled_back_to], [d2.id, 'degraded', 1]);
  assert.equal(rb[0].details.cdevent.context.type, 'dev.cdevents.service.rolledback.0.2.0');

  // it never loops: the same degradation again, a failed sync of it, more sweeps: still one rollback
  await post(s, app(s, 'dev', { revision: d2.gitops_commit_sha, health: 'Degraded', phase: 'Failed' }));
  await sleep(500);
  assert.equal((await history(s, 'dev')).filter((d: { kind: string }) => d.kind === 'rollback').length, 1);
  assert.equal((await current(s, 'dev')).id, rolledBack.id);

  // DORA over the API, hand-computed for this scenario: dev saw 3 activations (1 healthy, 2 degraded and rolled back, the rollback)
  const dora = await s.f.api('GET', '/api/v1/metrics/dora?environment=dev&repository=acme/mono&project=auth-service', undefined, s.dev);
  assert.equal(dora.status, 200, dora.text);
  assert.deepEqual([dora.body.deployments, dora.body.change_failure_rate], [3, 0.333]);
  assert.equal(dora.body.time_to_restore_seconds, null, 'the rollback was never reported healthy');
  assert.ok(dora.body.lead_time_seconds > 0);
  assert.equal(
    (await s.f.api('GET', '/api/v1/metrics/dora?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', undefined, s.dev)).status,
    400,
  );
  assert.equal((await s.f.api('GET', '/api/v1/metrics/dora')).status, 401);
});

test('no loop, and never silent: the automatic rollback degrading, or a later deployment of a release already rolled back automatically degrading, is refused once, audited with why', async (t) => {
  const s = await setup(t);
  await release(s, 1);
  const d1 = await eventually('release 1 active in dev', async () => {
    const c = await current(s, 'dev');
    return c?.release_number === 1 && c.status === 'active' ? c : undefined;
  });
  await post(s, app(s, 'dev', { revision: d1.gitops_commit_sha }));
  await release(s, 2);
  const d2 = await eventually('release 2 active in dev', async () => {
    const c = await current(s, 'dev');
    return c?.release_number === 2 ? c : undefined;
  });
  await post(s, app(s, 'dev', { revision: d2.gitops_commit_sha, health: 'Degraded' }));
  const rolledBack = await eventually(
    'the automatic rollback',
    async () => {
      const c = await current(s, 'dev');
      return c?.kind === 'rollback' ? c : undefined;
    },
    { withinMs: 60_000 },
  );
  const refusals = async () => (await auditOf(s)).filter((e) => e.action === 'deployment.auto_rollback_refused');

  // the automatic rollback itself turns Degraded: not rolled back again, and said so, once
  await post(s, app(s, 'dev', { revision: rolledBack.gitops_commit_sha, health: 'Degraded' }));
  const first = await eventually("the rollback's own degradation refused", async () => {
    const r = await refusals();
    return r.length === 1 ? r : undefined;
  });
  assert.equal(first[0].subject, rolledBack.id);
  assert.match(first[0].details.error, /itself an automatic rollback/);
  assert.equal(first[0].details.reported_by, 'argocd-notifications@cluster-a');

  // someone deploys release 2 again by hand; it degrades again within the window: one automatic
  // rollback per bad release, so it is refused, audited (and sent to webhooks) with the reason, once
  assert.equal((await s.f.api('DELETE', '/pins/dev/acme/mono/auth-service', undefined, s.ops)).status, 200);
  const again = await s.f.api(
    'POST',
    '/deployments',
    { repository: 'acme/mono', project: 'auth-service', environment: 'dev', release: '2' },
    s.ops,
  );
  assert.equal(again.status, 201, again.text);
  assert.deepEqual((await post(s, app(s, 'dev', { revision: again.body.gitops_commit_sha, health: 'Degraded' }))).body.events, [
    'deployment.synced',
    'deployment.degraded',
  ]);
  const second = await eventually('the second degradation of release 2 refused', async () => {
    const r = await refusals();
    return r.length === 2 ? r.find((e) => e.subject === again.body.id) : undefined;
  });
  assert.equal(second.details.cause, 'degraded');
  assert.equal(second.details.release_number, 2);
  assert.match(
    second.details.error,
    /release 2 was already rolled back automatically in dev \(deployment [0-9a-f-]+\): one automatic rollback per bad release/,
  );
  assert.equal(second.details.earlier_bad_deployment_id, d2.id);
  // more reports and several sweeps: still one rollback, still these two refusals
  await post(s, app(s, 'dev', { revision: again.body.gitops_commit_sha, health: 'Degraded', phase: 'Failed' }));
  await sleep(600);
  assert.equal((await refusals()).length, 2);
  assert.equal((await history(s, 'dev')).filter((d: { kind: string }) => d.kind === 'rollback').length, 1);
  assert.equal((await current(s, 'dev')).id, again.body.id);
});

test("the poll reads at most 64 MiB of Argo CD's answer: an endless one is cut off at the cap while streaming, with a clear log line", async (t) => {
  let sent = 0;
  let clientClosed = false;
  const chunk = Buffer.alloc(1024 * 1024, 0x20); // JSON whitespace
  let requests = 0;
  const server = createServer((req, res) => {
    // the first poll gets the endless answer; later ones a plain 503 (so the byte count is the first's)
    if (++requests > 1) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"items":[');
    req.socket.on('close', () => {
      clientClosed = true;
    });
    // 80 MiB, then the answer stays open (never ends): only a bounded read gets past it
    const pump = () => {
      while (sent < 80 * 1024 * 1024 && !clientClosed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const repo = makeRemote({ 'README.md': 'gitops\n' });
  t.after(repo.cleanup);
  // the real server, in this process, its log kept
  const dataDir = tempDir();
  const log: string[] = [];
  const forge = await startServer(
    loadSettings(
      { port: 0, dataDir },
      {
        ...process.env,
        FORGE_GITOPS_URL: repo.remote,
        FORGE_ARGOCD_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        FORGE_ARGOCD_TOKEN: 't',
        FORGE_ARGOCD_POLL_MS: '500',
        // without a bounded read, the poll would wait on the open answer until this timeout
        FORGE_ARGOCD_TIMEOUT_MS: '60000',
        FORGE_LOG: 'off',
      },
    ),
    (l) => log.push(l),
  );
  t.after(async () => {
    await forge.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const line = await eventually('the poll cut off at the cap', () => log.find((l) => l.startsWith('argocd: cannot poll')), {
    withinMs: 120_000,
  });
  assert.match(
    line,
    /^argocd: cannot poll http:\/\/127\.0\.0\.1:\d+: the application list is larger than 67108864 bytes: the read was stopped at that size; trying again every 500 ms$/,
  );
  await eventually('the connection dropped by Forge', () => clientClosed);
  assert.ok(sent < 80 * 1024 * 1024, `the server was still sending when Forge hung up (sent ${sent} bytes)`);
  assert.equal((await fetch(`${forge.address}/healthz`)).status, 200);
});

test('verification gate: refused in production with the time it becomes eligible; nothing happens after the auto-rollback window', async (t) => {
  const s = await setup(t);
  await release(s, 1);
  await release(s, 2);
  const deploy = (env: string, rel: string) =>
    s.f.api('POST', '/deployments', { repository: 'acme/mono', project: 'auth-service', environment: env, release: rel }, s.ops);
  const d1 = (await deploy('staging', '1')).body;
  await post(s, app(s, 'staging', { revision: d1.gitops_commit_sha }));
  const since = (await current(s, 'staging')).timeline.healthy_at;
  const eligible = new Date(Date.parse(since) + 3600_000);
  const refused = await deploy('production', '1');
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, 'policy_denied');
  const check = refused.body.error.details.checks.find((c: { name: string }) => c.name === 'verification');
  assert.equal(check.actual[0].eligible_at, eligible.toISOString());
  // full RFC 3339 precision (seconds and milliseconds), in the reason as in eligible_at
  assert.ok(check.reason.includes(`eligible at ${eligible.toISOString()}`), check.reason);
  assert.ok(check.reason.includes(`healthy there since ${new Date(since).toISOString()}`), check.reason);
  const dry = await s.f.api(
    'POST',
    '/policy-checks',
    { repository: 'acme/mono', project: 'auth-service', environment: 'production', release: '1' },
    s.dev,
  );
  assert.deepEqual([dry.body.allowed, dry.body.checks], [false, refused.body.error.details.checks]);
  // release 2 was never healthy in staging
  const never = await s.f.api(
    'POST',
    '/policy-checks',
    { repository: 'acme/mono', project: 'auth-service', environment: 'production', release: '2' },
    s.dev,
  );
  assert.match(never.body.checks.find((c: { name: string }) => c.name === 'verification').reason, /not healthy there now/);

  // staging rolls back only within 1 s of the deployment: release 2 degrades later, nothing happens
  const d2 = (await deploy('staging', '2')).body;
  // release 1 is no longer in staging: its stretch ended when release 2 landed, and counts as such
  const ended = await s.f.api(
    'POST',
    '/policy-checks',
    { repository: 'acme/mono', project: 'auth-service', environment: 'production', release: '1' },
    s.dev,
  );
  const endedGate = ended.body.checks.find((c: { name: string }) => c.name === 'verification');
  assert.deepEqual(
    [endedGate.actual[0].healthy_since, endedGate.actual[0].longest_healthy_seconds],
    [null, Math.floor((Date.parse(d2.finished_at) - Date.parse(since)) / 1000)],
  );
  await sleep(Math.max(0, Date.parse(d2.finished_at) + 1200 - Date.now()));
  assert.deepEqual((await post(s, app(s, 'staging', { revision: d2.gitops_commit_sha, health: 'Degraded' }))).body.events, [
    'deployment.synced',
    'deployment.degraded',
  ]);
  await sleep(500); // several sweeps
  assert.equal((await current(s, 'staging')).id, d2.id);
  assert.equal((await auditOf(s)).filter((e) => /rolled_back|auto_rollback/.test(e.action)).length, 0);
});

test('the integration endpoint: only integration:argocd may post; malformed and huge bodies are refused; the server survives', async (t) => {
  const s = await setup(t);
  const url = `${s.f.url}/api/v1/integrations/argocd`;
  const valid = application(
    { name: 'x', path: 'dev/apps/acme/mono/auth-service', repoURL: s.remote, sync: 'Synced', revision: 'a'.repeat(40), health: 'Healthy' },
    true,
  );
  const postRaw = (token: string | undefined, body: string | Buffer, type = 'application/json') =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body as BodyInit,
    });

  assert.equal((await postRaw(undefined, goJson(valid))).status, 401);
  for (const roles of [
    ['operator'],
    ['service-account'],
    ['developer'],
    ['deployer:dev'],
    ['approver:production'],
    ['operator', 'developer', 'deployer:dev'],
  ]) {
    const token = await s.f.token(roles, 'someone');
    const r = await postRaw(token, goJson(valid));
    assert.equal(r.status, 403, roles.join(','));
    assert.equal((await r.json()).error.code, 'permission_denied');
    // refused before the body is read: a huge or malformed body gets the same 403
    assert.equal((await postRaw(token, 'x'.repeat(20 * 1024 * 1024))).status, 403);
  }
  // the integration role may not do anything else that changes state
  const deny = await s.f.api(
    'POST',
    '/deployments',
    { repository: 'acme/mono', project: 'auth-service', environment: 'dev', release: '1' },
    s.argo,
  );
  assert.equal(deny.status, 403);

  const ok = await postRaw(s.argo, goJson(valid));
  assert.equal(ok.status, 200);
  const malformed: [string, string | Buffer][] = [
    ['not JSON', '{"kind": "Application", '],
    ['an array', '[]'],
    ['a string', '"Application"'],
    ['null', 'null'],
    ['wrong kind', goJson({ ...valid, kind: 'Deployment' })],
    ['wrong apiVersion', goJson({ ...valid, apiVersion: 'apps/v1' })],
    ['metadata a string', goJson({ ...valid, metadata: 'x' })],
    ['no metadata', goJson({ spec: valid.spec, status: valid.status })],
    ['name a number', goJson({ ...valid, metadata: { name: 7 } })],
    ['spec an array', goJson({ ...valid, spec: [] })],
    ['status a number', goJson({ ...valid, status: 5 })],
    ['sync.status an object', goJson({ ...valid, status: { sync: { status: {} } } })],
    ['health a string', goJson({ ...valid, status: { health: 'Healthy' } })],
    ['sources not a list', goJson({ ...valid, spec: { sources: {} } })],
    ['a bad time', goJson({ ...valid, status: { reconciledAt: 'yesterday' } })],
    ['a huge name', goJson({ ...valid, metadata: { name: 'n'.repeat(5000) } })],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ['deep nesting', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`],
  ];
  for (const [what, body] of malformed) {
    const r = await postRaw(s.argo, body);
    assert.equal(r.status, 400, `${what}: ${r.status}`);
    assert.equal((await r.json()).error.code, 'validation_error', what);
  }
  // every field Forge reads, given each wrong JSON type in turn: 400, never a 500
  const fields: ((v: unknown) => Record<string, unknown>)[] = [
    (v) => ({ ...valid, metadata: { name: v } }),
    (v) => ({ ...valid, spec: { source: { path: v } } }),
    (v) => ({ ...valid, spec: { sources: [{ path: v }] } }),
    (v) => ({ ...valid, status: { sync: { status: v } } }),
    (v) => ({ ...valid, status: { sync: { revision: v } } }),
    (v) => ({ ...valid, status: { health: { status: v } } }),
    (v) => ({ ...valid, status: { operationState: { phase: v } } }),
    (v) => ({ ...valid, status: { operationState: { finishedAt: v } } }),
    (v) => ({ ...valid, status: { operationState: { syncResult: { revision: v } } } }),
    (v) => ({ ...valid, status: { reconciledAt: v } }),
    (v) => ({ ...valid, spec: { source: { repoURL: v, path: 'dev/apps/acme/mono/auth-service' } } }),
    (v) => ({ ...valid, spec: { sources: [{ repoURL: v }] } }),
    (v) => ({ ...valid, status: { sync: { revisions: [v] } } }),
    (v) => ({ ...valid, status: { operationState: { syncResult: { revisions: [v] } } } }),
  ];
  for (const [i, make] of fields.entries())
    for (const v of [1, true, [], { a: 1 }]) {
      const r = await postRaw(s.argo, goJson(make(v)));
      assert.equal(r.status, 400, `field ${i} as ${JSON.stringify(v)}`);
    }
  const huge = await postRaw(
    s.argo,
    goJson({ ...valid, status: { ...(valid.status as object), resources: [{ message: 'x'.repeat(9 * 1024 * 1024) }] } }),
  );
  assert.equal(huge.status, 413);
  assert.equal((await postRaw(s.argo, goJson(valid), 'text/plain')).status, 400);
  // still serving
  assert.equal((await postRaw(s.argo, goJson(valid))).status, 200);
  assert.equal((await s.f.api('GET', '/healthz')).status, 200);
});
