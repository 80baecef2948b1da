/**
 * Issue 15 across replicas (two servers on one PostgreSQL and one GitOps remote; Argo CD the
 * stand-in of test/support/argocd.ts, v3.6.0 API schema, not a live one): the same degradation
 * reported to both at once, with both sweeping, leads to exactly one automatic rollback; an
 * auto-deploy waiting on a gate is sent exactly once; each event is recorded once.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { application, notify } from './support/argocd.js';
import { freshPostgres } from './support/db.js';
import { eventually } from './support/eventually.js';
import { type Forge, releaseBody, sha, startForge, tempDir } from './support/forge.js';
import { makeRemote } from './support/gitops.js';

const CONFIG = `
environments:
  dev:
    promotion_policy:
      allowed_triggers: [branch_push]
      auto_deploy: true
      auto_rollback: { on: [degraded], within: 15m }
  qa:
    promotion_policy:
      allowed_triggers: [branch_push]
      auto_deploy: true
      requires: [{ environment: dev, healthy_for: 1s }]
`;

test('two replicas: one automatic rollback, one gate release, each event once', async (t) => {
  const repo = makeRemote({ 'README.md': 'gitops\n' });
  const pg = await freshPostgres();
  const dir = tempDir();
  writeFileSync(join(dir, 'forge.yaml'), CONFIG);
  const keyFile = join(dir, 'token.key');
  const env = { FORGE_GITOPS_URL: repo.remote, FORGE_CONFIG: join(dir, 'forge.yaml'), FORGE_ARGOCD_POLL_MS: '50' };
  const a = await startForge({ databaseUrl: pg.url, tokenKeyFile: keyFile, env });
  const b = await startForge({ databaseUrl: pg.url, tokenKeyFile: keyFile, env });
  t.after(async () => {
    await a.stop();
    await b.stop();
    await pg.drop();
    repo.cleanup();
  });
  const ci = await a.token(['service-account'], 'ci');
  const dev = await a.token(['developer'], 'dan');
  const ops = await a.token(['operator'], 'olga');
  const argo = await a.token(['integration:argocd'], 'argocd');
  const current = async (f: Forge, e: string) => {
    const r = await f.api('GET', `/deployments/${e}/acme/mono/auth-service`, undefined, dev);
    return r.status === 200 ? r.body : undefined;
  };
  const report = (f: Forge, revision: string, health: 'Healthy' | 'Degraded') =>
    notify(
      { 'forge-url': f.url, 'forge-argocd-token': argo },
      application(
        {
          name: 'auth-dev',
          path: 'dev/apps/acme/mono/auth-service',
          repoURL: repo.remote,
          sync: 'Synced',
          revision,
          health,
          phase: 'Succeeded',
        },
        true,
      ),
    );

  assert.equal((await a.api('POST', '/releases', releaseBody({}, sha(1)), ci)).status, 201);
  const d1 = await eventually('release 1 in dev', async () => (await current(a, 'dev'))?.gitops_commit_sha && (await current(a, 'dev')));
  // both replicas hear the same Healthy at once: synced and healthy recorded once each
  const both = await Promise.all([report(a, d1.gitops_commit_sha, 'Healthy'), report(b, d1.gitops_commit_sha, 'Healthy')]);
  assert.deepEqual(both.flatMap((r) => r.body.events).sort(), ['deployment.healthy', 'deployment.synced']);
  // both replicas sweep; the gated qa auto-deploy goes out once
  await eventually('release 1 in qa', async () => (await current(b, 'qa'))?.release_number === 1);

  assert.equal((await a.api('POST', '/releases', releaseBody({}, sha(2)), ci)).status, 201);
  const d2 = await eventually('release 2 in dev', async () => {
    const c = await current(a, 'dev');
    return c?.release_number === 2 && c.gitops_commit_sha ? c : undefined;
  });
  await Promise.all([report(a, d2.gitops_commit_sha, 'Degraded'), report(b, d2.gitops_commit_sha, 'Degraded')]);
  await eventually('the rollback', async () => (await current(b, 'dev'))?.kind === 'rollback', { withinMs: 60_000 });
  await sleep(500); // many sweeps of both replicas
  const history = (await a.api('GET', '/deployments/dev/acme/mono/auth-service/history', undefined, dev)).body.items;
  assert.equal(history.filter((d: { kind: string }) => d.kind === 'rollback').length, 1);
  const qa = (await a.api('GET', '/deployments/qa/acme/mono/auth-service/history', undefined, dev)).body.items;
  assert.equal(qa.filter((d: { status: string }) => d.status !== 'failed').length, 1, JSON.stringify(qa));
  const audit = (await a.api('GET', '/audit?limit=200', undefined, ops)).body.items as { action: string }[];
  const count = (action: string) => audit.filter((e) => e.action === action).length;
  assert.deepEqual(['deployment.synced', 'deployment.healthy', 'deployment.degraded', 'deployment.rolled_back'].map(count), [2, 1, 1, 1]);
});
