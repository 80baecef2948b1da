/**
 * Deployment state stays true whatever happens around it (issue #12 items 1, 2, 3, 7, 10):
 * outside changes to the GitOps branch, preconditions that change between the decision and the
 * push, "previous release" read from the tip, and a database that fails after the push. Real
 * git remotes, PGlite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { parsePlatformConfig } from '../src/core/platform-config.js';
import { parsePointer } from '../src/core/pointer.js';
import { approve, revoke } from '../src/services/approve.js';
import { autoDeploy } from '../src/services/auto-deploy.js';
import { requestDeployment } from '../src/services/deploy.js';
import { adoptGitTruth, adoptOwnLivePointers, compareWithGit } from '../src/services/gitops-truth.js';
import { pinProject } from '../src/services/pins.js';
import { checkPolicy } from '../src/services/policy-check.js';
import { recoverExpired } from '../src/services/recovery.js';
import { requestRollback } from '../src/services/rollback.js';
import * as deployments from '../src/store/deployments.js';
import { getPin } from '../src/store/pins.js';
import { ENGINES } from './support/db.js';
import { addRelease, deploySetup, operator, REPO, who } from './support/deploy.js';
import { git, show } from './support/gitops.js';
import { editByHand, recreateBranch, revertTip, squashAndForcePush } from './support/outside-git.js';

const DEV = 'dev/apps/acme/mono/api/release.yaml';
const PROD = 'production/apps/acme/mono/api/release.yaml';
const dev = { repository: REPO, project: 'api', environment: 'dev' };
const prod = { repository: REPO, project: 'api', environment: 'production' };
const alice = who('alice@acme.test', 'deployer:dev', 'deployer:staging', 'deployer:production');
const bob = who('bob@acme.test', 'approver:production');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Setup = Awaited<ReturnType<typeof deploySetup>>;

/** What the tip runs in `path` (release number), or null. */
const tipRuns = (s: Setup, path = DEV) => {
  const text = show(s.remote, 'main', path);
  return text === null ? null : parsePointer(text).releaseNumber;
};
const dbRuns = async (s: Setup, env = 'dev') => (await deployments.activeDeployment(s.db, env, REPO, 'api'))?.release_number ?? null;
const deploy = (s: Setup, release: string) => requestDeployment(s.ctx, alice, { ...dev, release });

/** The doctor's view, reduced to "git and database agree". */
const agrees = async (s: Setup) => (await compareWithGit(s.ctx)).disagreements.length === 0;

for (const engine of ENGINES) {
  test(`item 1: after the branch is squashed and force-pushed, the next deployment is active, "already active" asks git, rollback works (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    for (const n of [1, 2, 3]) await addRelease(s.db, { number: n });
    assert.equal((await deploy(s, '1')).deployment.status, 'active');
    squashAndForcePush(s.remote);
    const second = (await deploy(s, '2')).deployment;
    assert.equal(second.status, 'active', 'the deployment built on the rewritten tip is what runs');
    assert.equal(await dbRuns(s), 2);
    assert.equal(tipRuns(s), 2);
    const again = await deploy(s, '1');
    assert.equal(again.created, true);
    assert.equal(again.deployment.status, 'active');
    assert.equal(tipRuns(s), 1);
    const rolled = await requestRollback(s.ctx, alice, dev);
    assert.equal(rolled.status, 'active');
    assert.equal(rolled.release_number, 2);
    assert.equal(tipRuns(s), 2);
    squashAndForcePush(s.remote);
    assert.equal((await deploy(s, '3')).deployment.status, 'active', 'a second rewrite: still never stuck');
    assert.equal(tipRuns(s), 3);
    assert.ok(await agrees(s));
  });

  test(`item 1 kind: a revert, a hand edit, a deleted pointer and a recreated branch; deployments follow the tip, doctor reports, repair adopts with an audit entry (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    for (const n of [1, 2, 3]) await addRelease(s.db, { number: n });
    const d1 = (await deploy(s, '1')).deployment;
    await deploy(s, '2');

    // A Forge commit reverted: git runs 1 (written by d1), the database says 2.
    revertTip(s.remote);
    assert.equal(tipRuns(s), 1);
    const found = (await compareWithGit(s.ctx)).disagreements;
    assert.equal(found.length, 1);
    assert.match(found[0].problem, /runs release 1 .* the database's active release is 2/);
    assert.equal(found[0].adoptable, true);
    // Deploying 2 again is not "already active": git does not run it.
    const redeploy = await deploy(s, '2');
    assert.equal(redeploy.created, true);
    assert.equal(redeploy.deployment.previous_release_number, 1, 'previous is what the tip ran');
    assert.equal(tipRuns(s), 2);
    assert.ok(await agrees(s));

    // Reverted again, then repaired: d1 is active again, audited.
    revertTip(s.remote);
    const { adopted, left } = await adoptGitTruth(s.ctx, 'olga@acme.test');
    assert.deepEqual(left, []);
    assert.equal(adopted.length, 1);
    assert.equal(adopted[0].active_deployment_id, d1.id);
    assert.equal((await deployments.activeDeployment(s.db, 'dev', REPO, 'api'))!.id, d1.id);
    const [audit] = await s.db.query<{ actor: string; details: { problem: string } }>(
      `select actor, details from audit_log where action = 'deployment.adopted' order by seq desc limit 1`,
    );
    assert.equal(audit.actor, 'olga@acme.test');
    assert.match(audit.details.problem, /runs release 1/);
    assert.ok(await agrees(s));

    // A pointer edited by hand to another known release (no Forge deployment wrote it): adopted as a new deployment.
    const r3 = (await addRelease(s.db, { number: 4 }))!;
    const text = show(s.remote, 'main', DEV)!;
    editByHand(s.remote, DEV, text.replace(parsePointer(text).release, r3.commit_sha).replace(parsePointer(text).digest, r3.oci_digest));
    assert.equal((await compareWithGit(s.ctx)).disagreements.length, 1);
    await adoptGitTruth(s.ctx, 'olga@acme.test');
    const adoptedRow = (await deployments.activeDeployment(s.db, 'dev', REPO, 'api'))!;
    assert.equal(adoptedRow.release_number, 4);
    assert.equal(adoptedRow.deployed_by, 'olga@acme.test');
    assert.match(adoptedRow.reason!, /adopted from the GitOps repository/);
    assert.ok(await agrees(s));

    // A pointer naming no release Forge knows: reported, never adopted.
    editByHand(s.remote, DEV, text.replace(parsePointer(text).release, 'f'.repeat(40)));
    const unknown = (await compareWithGit(s.ctx)).disagreements;
    assert.equal(unknown.length, 1);
    assert.equal(unknown[0].adoptable, false);
    assert.match(unknown[0].problem, /no release of acme\/mono\/api Forge knows/);
    assert.equal((await adoptGitTruth(s.ctx, 'olga')).left.length, 1);

    // The pointer deleted by hand: nothing runs; repair retires the active row; a deployment works.
    editByHand(s.remote, DEV, null);
    assert.match((await compareWithGit(s.ctx)).disagreements[0].problem, /missing from the GitOps repository/);
    await adoptGitTruth(s.ctx, 'olga');
    assert.equal(await dbRuns(s), null);
    assert.ok(await agrees(s));
    assert.equal((await deploy(s, '3')).deployment.status, 'active');

    // The branch deleted and recreated without the pointers.
    recreateBranch(s.remote, { 'README.md': 'started over\n' });
    assert.equal(tipRuns(s), null);
    const after = await deploy(s, '3');
    assert.equal(after.created, true, 'git does not run 3 any more: it is written again');
    assert.equal(after.deployment.status, 'active');
    assert.equal(tipRuns(s), 3);
    assert.ok(await agrees(s));
  });

  test(`items 2 and 3: a pending auto-deploy does not overwrite a rollback made meanwhile; it ends superseded, saying why (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    const slow = await s.open('cache-slow', { pauseBeforePushMs: 1500 });
    for (const n of [1, 2]) await addRelease(s.db, { number: n });
    await deploy(s, '1');
    await deploy(s, '2');
    const r3 = await addRelease(s.db, { number: 3 });
    const [pending] = await autoDeploy(slow, r3); // replica A: pending, its push held back
    assert.equal(pending.status, 'pending');
    const rollback = await requestRollback(s.ctx, alice, dev); // replica B
    assert.equal(rollback.status, 'active');
    assert.equal(rollback.release_number, 1);
    await Promise.allSettled([...slow.inflight]);
    const stale = (await deployments.getDeployment(s.db, pending.id))!;
    assert.equal(stale.status, 'superseded');
    assert.equal(stale.gitops_commit_sha, null, 'it was never pushed');
    assert.match(stale.error!, new RegExp(`a newer deployment \\(${rollback.id}\\) .* was pushed while this one waited`));
    assert.equal(tipRuns(s), 1);
    assert.equal(await dbRuns(s), 1);
    assert.ok(await getPin(s.db, 'dev', REPO, 'api'));
    assert.equal(git(s.remote, 'log', '--format=%H', `--grep=${pending.id}`, 'main'), '', 'no commit of the stale auto-deploy');
  });

  test(`item 3: register and roll back at once on one server: "previous release" in the record and the message is what the commit replaced (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    for (const n of [1, 2]) await addRelease(s.db, { number: n });
    await deploy(s, '1');
    await deploy(s, '2');
    const r3 = await addRelease(s.db, { number: 3 });
    await autoDeploy(s.ctx, r3);
    const rollback = await requestRollback(s.ctx, alice, dev);
    await Promise.allSettled([...s.ctx.inflight]);
    // Whatever order they landed in, each commit's "previous" is its parent's pointer.
    for (const sha of git(s.remote, 'log', '--format=%H', 'main', '--', DEV).split('\n')) {
      const parent = show(s.remote, `${sha}^`, DEV);
      const message = git(s.remote, 'log', '-1', '--format=%B', sha);
      const said = /Previous release: (\d+|none)/.exec(message)![1];
      assert.equal(said, parent === null ? 'none' : String(parsePointer(parent).releaseNumber), message);
      const id = parsePointer(show(s.remote, sha, DEV)!).deploymentId;
      const row = (await deployments.getDeployment(s.db, id))!;
      assert.equal(row.previous_release_number, parent === null ? null : parsePointer(parent).releaseNumber);
    }
    assert.equal(tipRuns(s), await dbRuns(s));
    const final = (await deployments.getDeployment(s.db, rollback.id))!;
    assert.ok(['active', 'superseded'].includes(final.status));
  });

  test(`item 2 kind: an approval revoked before the push fails the deployment with the re-checked policy; nothing is pushed (${engine})`, async (t) => {
    const platform = parsePlatformConfig(
      [
        'environments:',
        '  dev: { promotion_policy: { allowed_triggers: [tag], allowed_branches: ["*"], auto_deploy: true } }',
        '  production: { promotion_policy: { allowed_triggers: [tag], allowed_branches: ["*"], requires_approval: true } }',
      ].join('\n'),
    );
    const s = await deploySetup(engine, { platform });
    t.after(s.cleanup);
    const slow = await s.open('cache-slow', { pauseBeforePushMs: 1200 });
    await addRelease(s.db, { number: 1, tags: ['v1'] });
    const approval = await approve(s.ctx, bob, { ...prod, release: 'v1', justification: 'CAB-1' });
    const before = git(s.remote, 'rev-parse', 'main');
    const deploying = requestDeployment(slow, alice, { ...prod, release: 'v1' });
    await sleep(300);
    await revoke(s.ctx, bob, approval.id);
    const d = (await deploying).deployment;
    assert.equal(d.status, 'failed');
    assert.match(d.error!, /re-checked right before the push: .*approvals: needs 1 active approval/);
    assert.equal(git(s.remote, 'rev-parse', 'main'), before);
    assert.equal(show(s.remote, 'main', PROD), null);
  });

  test(`item 2 kind: an auto-deploy pending while the project is pinned by hand is refused by the re-checked pin rule (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    const slow = await s.open('cache-slow', { pauseBeforePushMs: 1000 });
    await addRelease(s.db, { number: 1 });
    await deploy(s, '1');
    const r2 = await addRelease(s.db, { number: 2 });
    const [pending] = await autoDeploy(slow, r2);
    await pinProject(s.ctx, operator, { ...dev, reason: 'hold' });
    await Promise.allSettled([...slow.inflight]);
    const d = (await deployments.getDeployment(s.db, pending.id))!;
    assert.equal(d.status, 'failed');
    assert.match(d.error!, /re-checked right before the push: .*pin: the environment\/project is pinned \(hold\)/);
    assert.equal(tipRuns(s), 1);
  });

  test(`item 7: the dry run and the deployment name the same release for a tag that looks like a number (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    const r1 = await addRelease(s.db, { number: 1, tags: ['3'] });
    await addRelease(s.db, { number: 2 });
    const dry = await checkPolicy(s.ctx, alice, { ...dev, release: '3' });
    assert.deepEqual(dry.release, { release_number: 1, commit_sha: r1.commit_sha, aliases: ['3'], canonical_id: r1.canonical_id });
    const done = (await deploy(s, '3')).deployment;
    assert.deepEqual(done.release, dry.release, 'the deployment names the release the dry run named');
    assert.equal(parsePointer(show(s.remote, 'main', DEV)!).release, r1.commit_sha);
    const read = (await deployments.activeDeployment(s.db, 'dev', REPO, 'api'))!;
    assert.deepEqual(read.release, dry.release, 'and so does every read of it');
  });
}

for (const engine of ENGINES) {
  test(`item 2 kind: a replica past its lease does not push after another replica took the row over (${engine})`, async (t) => {
    const s = await deploySetup(engine, { leaseMs: 5000 });
    t.after(s.cleanup);
    const paused = await s.open('cache-paused', { pauseBeforePushMs: 1500 });
    await addRelease(s.db, { number: 1 });
    const deploying = requestDeployment(paused, alice, { ...dev, release: '1' });
    const id = await (async () => {
      for (;;) {
        const [row] = (await deployments.deploymentHistory(s.db, 'dev', REPO, 'api', 1, 0)).items;
        if (row) return row.id;
        await sleep(20);
      }
    })();
    // Replica A stalls past its lease (its renewals stop, as in a long pause): B claims the row and completes it.
    await s.db.query(`update deployments set lease_expires_at = now() - interval '1 second' where id = $1`, [id]);
    assert.equal(await recoverExpired(s.ctx), 1);
    assert.equal((await deployments.getDeployment(s.db, id))!.status, 'active');
    const answered = (await deploying).deployment;
    assert.ok(['pending', 'active'].includes(answered.status), `A answers what B recorded, or that B completes it: ${answered.status}`);
    assert.equal((await deployments.getDeployment(s.db, id))!.status, 'active');
    assert.equal(git(s.remote, 'log', '--format=%H', `--grep=${id}`, 'main').split('\n').length, 1, 'one commit: A did not push again');
  });
}

test('item 4: an environment renamed in the config: its pointers are named orphaned by doctor and never adopted (pglite)', async (t) => {
  const s = await deploySetup('pglite');
  t.after(s.cleanup);
  await addRelease(s.db, { number: 1, trigger: { type: 'branch_push', branch: 'main' } });
  const staging = { ...dev, environment: 'staging' };
  assert.equal((await requestDeployment(s.ctx, alice, { ...staging, release: '1' })).deployment.status, 'active');
  const renamed = parsePlatformConfig(
    [
      'environments:',
      '  dev: { promotion_policy: { allowed_triggers: [branch_push, tag], allowed_branches: ["*"], auto_deploy: true } }',
      '  stage: { promotion_policy: { allowed_triggers: [branch_push, tag], allowed_branches: ["*"] } }',
    ].join('\n'),
  );
  const after = await s.open('cache-renamed');
  after.platform = renamed;
  const { disagreements } = await compareWithGit(after);
  assert.equal(disagreements.length, 1);
  assert.equal(disagreements[0].orphaned, true);
  assert.equal(disagreements[0].adoptable, false);
  assert.match(
    disagreements[0].problem,
    /environment "staging" is not in the platform config, but staging\/apps\/acme\/mono\/api\/release.yaml is still in the GitOps repository/,
  );
  const { runDoctor } = await import('../src/services/doctor.js');
  const report = await runDoctor({
    db: s.db,
    store: {
      registry: 'none',
      getManifest: async () => {
        throw new Error('no store');
      },
    } as never,
    deploy: after,
  });
  assert.ok(report.findings.some((f) => f.check === 'environments' && /staging/.test(f.subject)));
  assert.deepEqual((await adoptGitTruth(after, 'olga')).adopted, [], 'an orphan is never adopted');
});

test('item 10: the pending→active update fails with 57P01 once after the push: retried, recorded active, never failed (postgres)', async (t) => {
  const s = await deploySetup('postgres');
  t.after(s.cleanup);
  // A sequence counts the attempts: unlike a table, it is not rolled back with the failed update.
  await s.db.query(`create sequence fault_attempts;
    create function fault_57p01() returns trigger language plpgsql as $$
    begin
      if old.status = 'pending' and new.status = 'active' and nextval('fault_attempts') = 1 then
        raise exception 'terminating connection due to administrator command' using errcode = '57P01';
      end if;
      return new;
    end $$;
    create trigger fault_57p01 before update on deployments for each row execute function fault_57p01();`);
  for (const n of [1, 2]) await addRelease(s.db, { number: n });
  const d = (await deploy(s, '1')).deployment;
  assert.equal(d.status, 'active');
  assert.equal(d.gitops_commit_sha, git(s.remote, 'rev-parse', 'main'));
});

test('item 10 kind: the database stays down after the push: 503, the row stays pending, recovery records it from git; a failed row with a live pointer is adopted (postgres)', async (t) => {
  const s = await deploySetup('postgres', { leaseMs: 400 });
  t.after(s.cleanup);
  await s.db.query(`create function fault_57p01() returns trigger language plpgsql as $$
    begin
      if old.status = 'pending' and new.status = 'active' then
        raise exception 'terminating connection due to administrator command' using errcode = '57P01';
      end if;
      return new;
    end $$;
    create trigger fault_57p01 before update on deployments for each row execute function fault_57p01();`);
  for (const n of [1, 2]) await addRelease(s.db, { number: n });
  await assert.rejects(
    deploy(s, '1'),
    (e: unknown) => e instanceof ForgeError && e.code === 'database_unavailable' && /stays pending/.test(e.message),
  );
  const [row] = (await deployments.deploymentHistory(s.db, 'dev', REPO, 'api', 5, 0)).items;
  assert.equal(row.status, 'pending', 'never recorded failed while its pointer is live');
  assert.equal(tipRuns(s), 1);
  await s.db.query('drop trigger fault_57p01 on deployments');
  await sleep(500);
  assert.equal(await recoverExpired(s.ctx), 1);
  const recovered = (await deployments.getDeployment(s.db, row.id))!;
  assert.equal(recovered.status, 'active');
  assert.equal(recovered.gitops_commit_sha, git(s.remote, 'rev-parse', 'main'));
  assert.equal(git(s.remote, 'rev-list', '--count', 'main', '--', DEV), '1', 'recovery did not push it again');

  // Whatever recorded a live deployment failed, the sweep adopts it.
  const second = (await deploy(s, '2')).deployment;
  await s.db.query(`update deployments set status = 'failed', error = 'lost' where id = $1`, [second.id]);
  await s.db.query(`update deployments set status = 'active' where id = $1`, [row.id]);
  assert.equal(await adoptOwnLivePointers(s.ctx), 1);
  assert.equal((await deployments.getDeployment(s.db, second.id))!.status, 'active');
  assert.equal((await deployments.getDeployment(s.db, row.id))!.status, 'superseded');
  assert.ok(await agrees(s));
});
