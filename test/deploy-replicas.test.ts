/**
 * Deployments across processes: a server killed mid-deployment (SIGKILL) and finished by a
 * restarted server or another replica; many concurrent deployments through two replicas on one
 * PostgreSQL and one GitOps remote.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePointer } from '../src/core/pointer.js';
import { type Forge, type ForgeProcess, releaseBody, sha, spawnForge, tempDir } from './support/forge.js';
import { git, makeRemote, show } from './support/gitops.js';
import { replicaPair } from './support/replicas.js';
import { until } from './support/until.js';

const target = (project: string, release?: string) => ({
  repository: 'acme/mono',
  project,
  environment: 'staging',
  ...(release ? { release } : {}),
});
const pathOf = (project: string) => `staging/apps/acme/mono/${project}/release.yaml`;

async function release(f: Forge, ci: string, project: string, n: number) {
  const r = await f.api('POST', '/releases', releaseBody({ project }, sha(n)), ci);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

async function pendingId(f: Forge, token: string, project: string): Promise<string> {
  return until(async () => {
    const h = await f.api('GET', `/deployments/staging/acme/mono/${project}/history`, undefined, token);
    return h.body?.items?.find((d: { status: string }) => d.status === 'pending')?.id as string | undefined;
  });
}

// Test-only fault: FORGE_FAULT_PAUSE_BEFORE_GITOPS_PUSH_MS holds the deployment between its
// pending row and its push, so the process can be killed at exactly that point.
test('a server SIGKILLed between recording and pushing: the restarted server completes it, pointer and database agree', async (t) => {
  const repo = makeRemote({ 'README.md': 'x\n' });
  t.after(repo.cleanup);
  const dataDir = tempDir();
  const env = { FORGE_GITOPS_URL: repo.remote, FORGE_DEPLOY_LEASE_MS: '1000' };
  const a = await spawnForge({ dataDir, env: { ...env, FORGE_FAULT_PAUSE_BEFORE_GITOPS_PUSH_MS: '600000' } });
  let b: ForgeProcess | undefined;
  t.after(async () => {
    await a.kill('SIGKILL');
    await b?.stop();
  });
  const ci = await a.token(['service-account'], 'ci');
  const ops = await a.token(['operator'], 'olga');
  await release(a, ci, 'api', 1);
  const before = git(repo.remote, 'rev-parse', 'main');
  void a.api('POST', '/deployments', target('api', '1'), ops).catch(() => {});
  const id = await pendingId(a, ops, 'api');
  assert.equal(await a.kill('SIGKILL'), null);
  assert.equal(git(repo.remote, 'rev-parse', 'main'), before, 'nothing was pushed before the kill');

  b = await spawnForge({ dataDir, env });
  const active = await until(async () => {
    const r = await b!.api('GET', '/deployments/staging/acme/mono/api', undefined, ops);
    return r.status === 200 && r.body;
  });
  assert.equal(active.id, id);
  assert.equal(active.status, 'active');
  assert.equal(active.gitops_commit_sha, git(repo.remote, 'rev-parse', 'main'));
  assert.equal(parsePointer(show(repo.remote, 'main', pathOf('api'))!).deploymentId, id);
});

// Test-only fault: FORGE_FAULT_PAUSE_AFTER_GITOPS_PUSH_MS holds the deployment after its push
// and before recording it, the one moment where git and the database disagree.
test('a replica SIGKILLed after pushing, before recording: another replica records it once the lease expires, without a second commit', async (t) => {
  const { repo, a, b } = await replicaPair(t, {
    env: { FORGE_DEPLOY_LEASE_MS: '1000' },
    envA: { FORGE_FAULT_PAUSE_AFTER_GITOPS_PUSH_MS: '600000' },
    killA: true,
  });
  const ci = await a.token(['service-account'], 'ci');
  const ops = await a.token(['operator'], 'olga');
  await release(a, ci, 'api', 1);
  void a.api('POST', '/deployments', target('api', '1'), ops).catch(() => {});
  const id = await pendingId(a, ops, 'api');
  await until(async () => show(repo.remote, 'main', pathOf('api'))?.includes(id));
  const pushed = git(repo.remote, 'rev-parse', 'main');
  await a.kill('SIGKILL');
  const active = await until(async () => {
    const r = await b.api('GET', '/deployments/staging/acme/mono/api', undefined, ops);
    return r.status === 200 && r.body;
  });
  assert.equal(active.id, id);
  assert.equal(active.gitops_commit_sha, pushed);
  assert.equal(git(repo.remote, 'rev-parse', 'main'), pushed, 'no second commit');
});

test('50 concurrent deployments of different projects through two replicas on PostgreSQL: all land, each with its commit; one project twice: the later landed is active', async (t) => {
  const { repo, a, b } = await replicaPair(t, { files: { 'README.md': 'x\n', 'staging/env.yaml': 'kind: EnvironmentConfig\n' } });
  const ci = await a.token(['service-account'], 'ci');
  const ops = await a.token(['operator'], 'olga');
  const projects = Array.from({ length: 50 }, (_, i) => `svc-${i}`);
  for (const [i, p] of projects.entries()) await release(i % 2 ? a : b, ci, p, i + 1);

  const answers = await Promise.all(projects.map((p, i) => (i % 2 ? a : b).api('POST', '/deployments', target(p, '1'), ops)));
  for (const [i, r] of answers.entries()) {
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.status, 'active');
    const atCommit = show(repo.remote, r.body.gitops_commit_sha, pathOf(projects[i]));
    assert.equal(parsePointer(atCommit!).deploymentId, r.body.id, 'the recorded commit holds this pointer');
    assert.equal(parsePointer(show(repo.remote, 'main', pathOf(projects[i]))!).deploymentId, r.body.id, 'none is lost');
  }
  assert.equal(show(repo.remote, 'main', 'staging/env.yaml'), 'kind: EnvironmentConfig\n');

  await release(a, ci, 'svc-0', 1001);
  await release(a, ci, 'svc-0', 1002);
  const [x, y] = await Promise.all([
    a.api('POST', '/deployments', target('svc-0', '2'), ops),
    b.api('POST', '/deployments', target('svc-0', '3'), ops),
  ]);
  assert.equal(x.status, 201, x.text);
  assert.equal(y.status, 201, y.text);
  const active = (await a.api('GET', '/deployments/staging/acme/mono/svc-0', undefined, ops)).body;
  const pointer = parsePointer(show(repo.remote, 'main', pathOf('svc-0'))!);
  assert.equal(pointer.deploymentId, active.id);
  assert.equal(active.gitops_commit_sha, git(repo.remote, 'log', '-1', '--format=%H', 'main', '--', pathOf('svc-0')));
  const other = active.id === x.body.id ? y.body : x.body;
  const otherNow = (await a.api('GET', '/deployments/staging/acme/mono/svc-0/history', undefined, ops)).body.items.find(
    (d: { id: string }) => d.id === other.id,
  );
  assert.equal(otherNow.status, 'superseded');
  // Either it landed earlier and was superseded, or (recorded before the one that landed first)
  // it was withdrawn at the push, never written over the newer pointer (issue #12 item 2).
  if (otherNow.gitops_commit_sha === null) {
    assert.match(otherNow.error ?? '', /a newer deployment .* was pushed while this one waited/, JSON.stringify(otherNow));
  } else {
    assert.equal(
      git(repo.remote, 'merge-base', '--is-ancestor', otherNow.gitops_commit_sha, active.gitops_commit_sha),
      '',
      'the superseded one landed earlier',
    );
  }
});
