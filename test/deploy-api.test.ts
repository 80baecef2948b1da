import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePointer } from '../src/core/pointer.js';
import { type Forge, releaseBody, sha, startForge, tempDir } from './support/forge.js';
import { git, makeRemote, show } from './support/gitops.js';

const API = 'staging/apps/acme/mono/auth-service/release.yaml';
const slot = (env: string) => `/deployments/${env}/acme/mono/auth-service`;
const target = (environment: string, release?: string) => ({
  repository: 'acme/mono',
  project: 'auth-service',
  environment,
  ...(release ? { release } : {}),
});

async function release(f: Forge, ci: string, n: number, over: Record<string, unknown> = {}) {
  const r = await f.api('POST', '/releases', releaseBody(over, sha(n)), ci);
  assert.ok(r.status === 201 || r.status === 200, r.text);
  return r.body;
}

test('deployment API on one server: deploy, no-op, refusals in order, dry run, approvals, rollback and pins, environments', async (t) => {
  const repo = makeRemote({ 'README.md': 'gitops\n', 'staging/env.yaml': 'kind: EnvironmentConfig\n' });
  t.after(repo.cleanup);
  const f = await startForge({ env: { FORGE_GITOPS_URL: repo.remote } });
  t.after(() => f.stop());
  const ci = await f.token(['service-account'], 'ci');
  const alice = await f.token(['deployer:staging', 'deployer:production'], 'alice@acme.test');
  const bob = await f.token(['approver:production'], 'bob@acme.test');
  const dev = await f.token(['developer'], 'dan@acme.test');
  const ops = await f.token(['operator'], 'olga@acme.test');
  const r1 = await release(f, ci, 1, { trigger: { type: 'tag', tag: 'auth-service/v1.0.0' }, tags: ['auth-service/v1.0.0'] });
  await release(f, ci, 2);

  // 401 → 403 permission_denied → 400 → 404 → 403 policy_denied
  assert.equal((await f.api('POST', '/deployments', target('staging', 'v1.0.0'))).status, 401);
  const noRole = await f.api('POST', '/deployments', { nonsense: true, environment: 'staging' }, dev);
  assert.equal(noRole.status, 403);
  assert.equal(noRole.body.error.code, 'permission_denied');
  assert.equal((await f.api('POST', '/deployments', { nonsense: true }, dev)).body.error.code, 'permission_denied');
  const bad = await f.api('POST', '/deployments', { ...target('staging', 'v1.0.0'), extra: 1 }, alice);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'validation_error');
  assert.equal((await f.api('POST', '/deployments', target('staging', 'v9'), alice)).status, 404);
  assert.equal((await f.api('POST', '/deployments', target('nowhere', '1'), ops)).status, 404);
  const denied = await f.api('POST', '/deployments', target('production', '2'), alice);
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, 'policy_denied');
  assert.deepEqual(
    denied.body.error.details.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]),
    [
      ['triggers', false],
      ['branches', true],
      ['approvals', false],
    ],
  );
  const dry = await f.api('POST', '/policy-checks', target('production', '2'), dev);
  assert.equal(dry.status, 200);
  assert.deepEqual({ allowed: dry.body.allowed, checks: dry.body.checks }, { allowed: false, checks: denied.body.error.details.checks });
  assert.equal(dry.body.release.release_number, 2, 'the dry run names the release it resolved');

  // deploy: 201 active with its commit; the same again: 200, no commit
  const d1 = await f.api('POST', '/deployments', { ...target('staging', 'v1.0.0'), reason: 'first' }, alice);
  assert.equal(d1.status, 201, d1.text);
  assert.equal(d1.body.status, 'active');
  assert.equal(d1.body.release_id, r1.id);
  assert.equal(d1.body.gitops_commit_sha, git(repo.remote, 'rev-parse', 'main'));
  assert.equal(parsePointer(show(repo.remote, 'main', API)!).deploymentId, d1.body.id);
  const again = await f.api('POST', '/deployments', target('staging', '1'), alice);
  assert.equal(again.status, 200);
  assert.equal(again.body.id, d1.body.id);
  assert.equal(git(repo.remote, 'rev-parse', 'main'), d1.body.gitops_commit_sha);
  const d2 = await f.api('POST', '/deployments', target('staging', '2'), alice);
  assert.equal(d2.body.previous_release_number, 1);
  assert.equal((await f.api('GET', slot('staging'), undefined, dev)).body.id, d2.body.id);
  const hist = await f.api('GET', `${slot('staging')}/history`, undefined, dev);
  assert.deepEqual(
    hist.body.items.map((d: { release_number: number; status: string }) => [d.release_number, d.status]),
    [
      [2, 'active'],
      [1, 'superseded'],
    ],
  );
  assert.equal(hist.body.total, 2);
  assert.equal((await f.api('GET', slot('production'), undefined, dev)).status, 404);

  // approvals through the API
  assert.equal((await f.api('POST', '/approvals', { ...target('production', 'v1.0.0'), justification: 'x' }, alice)).status, 403);
  assert.equal((await f.api('POST', '/approvals', { ...target('production', 'v1.0.0'), justification: '' }, bob)).status, 400);
  const ap = await f.api('POST', '/approvals', { ...target('production', 'v1.0.0'), justification: 'CAB-7' }, bob);
  assert.equal(ap.status, 201, ap.text);
  assert.equal(ap.body.status, 'active');
  const state = await f.api('GET', `/approvals/${r1.id}/production`, undefined, dev);
  assert.deepEqual([state.body.satisfied, state.body.required, state.body.approvals.length], [true, 1, 1]);
  assert.equal((await f.api('GET', '/approvals?environment=production&status=active', undefined, dev)).body.total, 1);
  const prod = await f.api('POST', '/deployments', target('production', 'v1.0.0'), alice);
  assert.equal(prod.status, 201, prod.text);
  assert.deepEqual(prod.body.approved_by, ['bob@acme.test']);
  assert.deepEqual(prod.body.approval_ids, [ap.body.id]);
  const revoked = await f.api('POST', `/approvals/${ap.body.id}/revoke`, undefined, bob);
  assert.equal(revoked.body.status, 'revoked');
  assert.equal((await f.api('POST', '/policy-checks', target('production', 'v1.0.0'), alice)).body.allowed, false);

  // rollback: back to 1, pinned; then 2 again; nothing to roll back in production → 409
  const rb = await f.api('POST', '/deployments/rollback', target('staging'), alice);
  assert.equal(rb.status, 201, rb.text);
  assert.equal(rb.body.kind, 'rollback');
  assert.equal(rb.body.release_number, 1);
  assert.match(git(repo.remote, 'log', '-1', '--format=%s', 'main'), /^Rollback auth-service in staging to release 1 \(v1.0.0\)$/);
  const none = await f.api('POST', '/deployments/rollback', target('production'), alice);
  assert.equal(none.status, 409);
  assert.match(none.body.error.message, /nothing to roll back to/);
  const envs = await f.api('GET', '/environments', undefined, dev);
  const staging = envs.body.items.find((e: { name: string }) => e.name === 'staging');
  assert.deepEqual(
    envs.body.items.map((e: { name: string }) => e.name),
    ['dev', 'staging', 'production'],
  );
  assert.deepEqual(staging.promotion_policy.allowed_branches, ['main', 'release/*']);
  const running = staging.deployments.find((d: { project: string }) => d.project === 'auth-service');
  assert.equal(running.release_number, 1);
  assert.equal(running.pinned, true);
  assert.ok(running.aliases.some((a: { alias: string }) => a.alias === 'v1.0.0'));
  assert.equal((await f.api('DELETE', '/pins/staging/acme/mono/auth-service', undefined, dev)).status, 403);
  assert.equal((await f.api('DELETE', '/pins/staging/acme/mono/auth-service', undefined, alice)).status, 200);
  assert.equal((await f.api('DELETE', '/pins/staging/acme/mono/auth-service', undefined, alice)).status, 404);
  const pinned = await f.api('POST', '/pins', { ...target('staging'), reason: 'freeze' }, alice);
  assert.equal(pinned.status, 201);
  assert.equal(pinned.body.reason, 'freeze');
  // the /v1 alias serves the same
  assert.equal((await f.api('GET', '/v1/deployments/staging/acme/mono/auth-service', undefined, dev)).body.id, rb.body.id);
  for (const f of ['README.md', 'staging/env.yaml']) assert.ok(show(repo.remote, 'main', f));
});

test('a platform config file with a mistake stops the server at start, naming the line', async () => {
  const dir = tempDir();
  const config = join(dir, 'forge.yaml');
  writeFileSync(config, 'environments:\n  dev:\n    promotion_policy:\n      allowed_triggers: [push]\n');
  await assert.rejects(startForge({ dataDir: dir, env: { FORGE_CONFIG: config } }), /forge\.yaml:4:26: unknown trigger "push"/);
});

test('with no GitOps URL the server keeps a bare repository under its data directory', async (t) => {
  const f = await startForge();
  t.after(() => f.stop());
  const ci = await f.token(['service-account'], 'ci');
  const ops = await f.token(['operator'], 'olga@acme.test');
  await release(f, ci, 1);
  const d = await f.api('POST', '/deployments', target('staging', '1'), ops);
  assert.equal(d.status, 201, d.text);
  assert.equal(git(join(f.dataDir, 'gitops.git'), 'rev-parse', 'main'), d.body.gitops_commit_sha);
});

test('auto-deploy after release creation: admitted ones land, refused ones are recorded, the release still succeeds; a pin holds them off', async (t) => {
  const repo = makeRemote({ 'README.md': 'x\n' });
  t.after(repo.cleanup);
  const dir = tempDir();
  const config = join(dir, 'forge.yaml');
  writeFileSync(
    config,
    [
      'environments:',
      '  dev: { promotion_policy: { allowed_triggers: [branch_push], allowed_branches: ["*"], auto_deploy: true } }',
      '  preview: { promotion_policy: { allowed_triggers: [branch_push], allowed_branches: ["feature/*"], auto_deploy: true } }',
      '  staging: { promotion_policy: { allowed_triggers: [branch_push, tag] } }',
    ].join('\n'),
  );
  const f = await startForge({ dataDir: join(dir, 'data'), env: { FORGE_GITOPS_URL: repo.remote, FORGE_CONFIG: config } });
  t.after(() => f.stop());
  const ci = await f.token(['service-account'], 'ci');
  const alice = await f.token(['deployer:dev'], 'alice@acme.test');

  const created = await f.api('POST', '/releases', releaseBody({}, sha(1)), ci);
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(
    created.body.auto_deployments.map((a: { environment: string; status: string }) => [a.environment, a.status]),
    [
      ['dev', 'pending'],
      ['preview', 'failed'],
    ],
  );
  const active = await until(async () => {
    const r = await f.api('GET', slot('dev'), undefined, alice);
    return r.status === 200 && r.body;
  });
  assert.equal(active.id, created.body.auto_deployments[0].id);
  assert.equal(active.kind, 'auto');
  assert.equal(active.deployed_by, 'forge:auto-deploy');
  assert.equal(parsePointer(show(repo.remote, 'main', 'dev/apps/acme/mono/auth-service/release.yaml')!).deploymentId, active.id);
  const preview = (await f.api('GET', `${slot('preview')}/history`, undefined, alice)).body.items;
  assert.equal(preview.length, 1);
  assert.equal(preview[0].status, 'failed');
  assert.match(preview[0].error, /branches: branch "main" matches none of "feature\/\*"/);
  const onRelease = await f.api('GET', '/releases/acme/mono/auth-service/1', undefined, alice);
  assert.deepEqual(
    onRelease.body.auto_deployments.map((a: { environment: string; status: string }) => [a.environment, a.status]),
    [
      ['dev', 'active'],
      ['preview', 'failed'],
    ],
    'the outcome shows on the release',
  );

  // the same request again is the existing release: no second auto-deploy
  const again = await f.api('POST', '/releases', releaseBody({}, sha(1)), ci);
  assert.equal(again.status, 200);
  assert.deepEqual(
    again.body.auto_deployments.map((a: { id: string }) => a.id),
    created.body.auto_deployments.map((a: { id: string }) => a.id),
    'the same auto-deploys, none new',
  );

  assert.equal((await f.api('POST', '/pins', { repository: 'acme/mono', project: 'auth-service', environment: 'dev' }, alice)).status, 201);
  const held = await f.api('POST', '/releases', releaseBody({}, sha(2)), ci);
  assert.equal(held.status, 201);
  assert.equal(held.body.auto_deployments[0].status, 'failed');
  assert.equal((await f.api('GET', slot('dev'), undefined, alice)).body.id, active.id, 'the pinned environment keeps its release');
});

/** Polls until `probe` answers something truthy (the test runner's timeout bounds it). */
async function until<T>(probe: () => Promise<T | undefined | false>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
