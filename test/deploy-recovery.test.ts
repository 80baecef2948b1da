import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePointer, pointerPath, renderPointer } from '../src/core/pointer.js';
import { resolveRemote } from '../src/gitops/remote.js';
import { GitOpsWriter } from '../src/gitops/writer.js';
import { recoverExpired } from '../src/services/recovery.js';
import type { Db } from '../src/store/db.js';
import * as deployments from '../src/store/deployments.js';
import { ENGINES } from './support/db.js';
import { addRelease, deploySetup, REPO } from './support/deploy.js';
import { git, show } from './support/gitops.js';

/** What a replica that died after recording the deployment left behind: a pending row whose lease ran out. */
async function orphan(db: Db, releaseNumber: number, project = 'api') {
  const [r] = await db.query<{ id: string; commit_sha: string; oci_digest: string }>(
    'select id, commit_sha, oci_digest from releases where project = $1 and release_number = $2',
    [project, releaseNumber],
  );
  const id = randomUUID();
  const deployedAt = new Date().toISOString();
  const path = pointerPath({ environment: 'dev', repository: REPO, project });
  const content = renderPointer({
    repository: REPO,
    project,
    environment: 'dev',
    release: r.commit_sha,
    digest: r.oci_digest,
    releaseNumber,
    aliases: [],
    deploymentId: id,
    deployedBy: 'alice',
    deployedAt,
    approvedBy: [],
  });
  await deployments.insertDeployment(db, {
    id,
    release_id: r.id,
    repository: REPO,
    project,
    environment: 'dev',
    kind: 'deploy',
    status: 'pending',
    deployed_by: 'alice',
    deployed_at: deployedAt,
    approval_ids: [],
    approved_by: [],
    previous_release_id: null,
    pointer_path: path,
    pointer_content: content,
    commit_message: `Deploy ${project} to dev: release ${releaseNumber}\n`,
    lease_owner: 'dead-replica',
    lease_ms: -1000,
  });
  return { id, path, content };
}

for (const engine of ENGINES) {
  test(`recovery: an expired pending deployment that never reached git is pushed and recorded (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1 });
    const { id, path } = await orphan(s.db, 1);
    const before = git(s.remote, 'rev-list', '--count', 'main');
    assert.equal(await recoverExpired(s.ctx), 1);
    const d = (await deployments.getDeployment(s.db, id))!;
    assert.equal(d.status, 'active');
    assert.equal(d.gitops_commit_sha, git(s.remote, 'rev-parse', 'main'));
    assert.equal(Number(git(s.remote, 'rev-list', '--count', 'main')), Number(before) + 1);
    assert.equal(parsePointer(show(s.remote, 'main', path)!).deploymentId, id);
    assert.equal(await recoverExpired(s.ctx), 0, 'nothing left to recover');
  });

  test(`recovery: a pointer pushed by a replica that died before recording is recorded, not pushed again (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1 });
    const { id, path, content } = await orphan(s.db, 1);
    const dead = await GitOpsWriter.open({
      remote: resolveRemote({ url: s.remote, dataDir: s.root }),
      branch: 'main',
      cacheDir: join(s.root, 'dead'),
      author: 'Forge <f@x>',
    });
    const landed = await dead.submit({ path, content, message: 'deploy' });
    // an unrelated commit lands after it
    await dead.submit({ path: 'dev/apps/acme/mono/other/release.yaml', content: 'x\n', message: 'other' });
    await dead.close();
    const tip = git(s.remote, 'rev-parse', 'main');
    assert.equal(await recoverExpired(s.ctx), 1);
    const d = (await deployments.getDeployment(s.db, id))!;
    assert.equal(d.status, 'active');
    assert.equal(d.gitops_commit_sha, landed.commit, 'the commit that brought the pointer');
    assert.equal(git(s.remote, 'rev-parse', 'main'), tip, 'no new commit');
  });

  test(`recovery: a pointer that landed and was since replaced is recorded superseded (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1 });
    await addRelease(s.db, { number: 2 });
    const { id, path, content } = await orphan(s.db, 1);
    const dead = await GitOpsWriter.open({
      remote: resolveRemote({ url: s.remote, dataDir: s.root }),
      branch: 'main',
      cacheDir: join(s.root, 'dead'),
      author: 'Forge <f@x>',
    });
    const landed = await dead.submit({ path, content, message: 'deploy' });
    await dead.submit({ path, content: content.replace(id, randomUUID()), message: 'a later deployment' });
    await dead.close();
    const pointerBefore = show(s.remote, 'main', path);
    assert.equal(await recoverExpired(s.ctx), 1);
    const d = (await deployments.getDeployment(s.db, id))!;
    assert.equal(d.status, 'superseded');
    assert.equal(d.gitops_commit_sha, landed.commit);
    assert.equal(show(s.remote, 'main', path), pointerBefore, 'the newer pointer is left alone');
  });

  test(`recovery: two replicas sweeping at once complete each orphan exactly once (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      await addRelease(s.db, { number: 1, project: `p${i}` });
      ids.push((await orphan(s.db, 1, `p${i}`)).id);
    }
    const other = await s.open('cache-2');
    const before = Number(git(s.remote, 'rev-list', '--count', 'main'));
    const [a, b] = await Promise.all([recoverExpired(s.ctx), recoverExpired(other)]);
    assert.equal(a + b, 8);
    for (const [i, id] of ids.entries()) {
      const d = (await deployments.getDeployment(s.db, id))!;
      assert.equal(d.status, 'active');
      assert.equal(parsePointer(show(s.remote, 'main', `dev/apps/acme/mono/p${i}/release.yaml`)!).deploymentId, id);
    }
    const commits = Number(git(s.remote, 'rev-list', '--count', 'main')) - before;
    assert.ok(commits >= 1 && commits <= 8, `${commits} commits`);
  });

  test(`a live replica keeps its lease: recovery does not take a pending row it is still completing (${engine})`, async (t) => {
    const s = await deploySetup(engine, { leaseMs: 300 });
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1 });
    // test-only pause before the push, longer than several leases: renewals must keep the row
    const slow = await s.open('cache-slow', { pauseBeforePushMs: 1200 });
    const { requestDeployment } = await import('../src/services/deploy.js');
    const pending = requestDeployment(
      slow,
      { subject: 'alice', roles: ['operator'] },
      { repository: REPO, project: 'api', environment: 'dev', release: '1' },
    );
    let swept = 0;
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 150));
      swept += await recoverExpired(s.ctx);
    }
    const { deployment } = await pending;
    assert.equal(swept, 0);
    assert.equal(deployment.status, 'active');
  });
}
