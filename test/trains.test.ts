/**
 * Release trains (issue #17): a train is created with each member resolved once; deployed in ONE
 * GitOps commit touching exactly its members' pointer files, or refused whole (403 with each
 * member's checks, nothing committed); approved member by member; rolled back in one commit
 * with every member pinned; two trains deployed at once through two replicas on one PostgreSQL
 * end with one train's pointers for every shared member. Real git remotes, PGlite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { DEFAULT_PLATFORM_CONFIG, type PlatformConfig, parsePlatformConfig } from '../src/core/platform-config.js';
import { parsePointer } from '../src/core/pointer.js';
import { requestDeployment } from '../src/services/deploy.js';
import { renameEnvironment } from '../src/services/environment-lifecycle.js';
import { environmentsMatrix } from '../src/services/environments-matrix.js';
import { completeDeployment, recordPending } from '../src/services/outbox.js';
import { approveTrain, checkTrain, createTrain, getTrain, listTrainDeployments, listTrains } from '../src/services/train.js';
import { deployTrain, rollbackTrain } from '../src/services/train-deploy.js';
import * as deployments from '../src/store/deployments.js';
import { getPin } from '../src/store/pins.js';
import { ENGINES } from './support/db.js';
import { addRelease, deploySetup, REPO, who } from './support/deploy.js';
import { git, show } from './support/gitops.js';

const alice = who('alice@acme.test', 'deployer:dev', 'deployer:staging', 'deployer:production');
const bob = who('bob@acme.test', 'approver:production');
const POLICY = '{ promotion_policy: { allowed_triggers: [branch_push, tag, manual], allowed_branches: ["*"] } }';
const config = (extra = ''): PlatformConfig => parsePlatformConfig(`environments:\n  staging: ${POLICY}\n${extra}`);
const path = (environment: string, project: string) => `${environment}/apps/acme/mono/${project}/release.yaml`;
const member = (project: string, release: string) => ({ repository: REPO, project, release });

/** The files one commit changed, `<status>\t<path>` sorted. */
const touched = (remote: string, rev: string) =>
  git(remote, 'show', '--no-renames', '--name-status', '--format=', rev).split('\n').filter(Boolean).sort();

async function rejects(p: Promise<unknown>, code: string): Promise<ForgeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ForgeError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

for (const engine of ENGINES) {
  test(`a 20-project train lands in ONE commit touching exactly its 20 pointer files; every member records that commit and the train (${engine})`, async (t) => {
    const s = await deploySetup(engine, { platform: config() });
    t.after(s.cleanup);
    const projects = Array.from({ length: 20 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    for (const p of projects) await addRelease(s.db, { project: p, number: 1 });
    const train = await createTrain(s.ctx, alice, { name: 'spring-2026', members: projects.map((p) => member(p, '1')) });
    assert.equal(train.members.length, 20);
    assert.equal((await getTrain(s.ctx, 'spring-2026')).id, train.id);
    assert.equal((await getTrain(s.ctx, train.id)).name, 'spring-2026');
    const before = git(s.remote, 'rev-parse', 'main');

    const d = await deployTrain(s.ctx, alice, 'spring-2026', { environment: 'staging', reason: 'quarterly' });
    assert.equal(d.status, 'deployed');
    assert.ok(d.gitops_commit_sha);
    assert.equal(git(s.remote, 'rev-parse', 'main'), d.gitops_commit_sha);
    assert.equal(git(s.remote, 'rev-parse', `${d.gitops_commit_sha}^`), before, 'one commit on top of the old tip');
    assert.deepEqual(
      touched(s.remote, d.gitops_commit_sha!),
      projects.map((p) => `A\t${path('staging', p)}`),
    );
    const message = git(s.remote, 'log', '-1', '--format=%B', 'main');
    assert.match(message, /^Deploy train spring-2026 to staging \(20 projects\)/);
    for (const p of projects) assert.match(message, new RegExp(`- acme/mono/${p}: release 1 \\(v1\\) \\(previous: none`));
    assert.equal(d.members.length, 20);
    for (const m of d.members) {
      assert.equal(m.status, 'active');
      assert.equal(m.gitops_commit_sha, d.gitops_commit_sha);
      assert.deepEqual(m.train, { id: train.id, name: 'spring-2026' });
      assert.equal(parsePointer(show(s.remote, 'main', path('staging', m.project))!).deploymentId, m.id);
    }
    const matrix = await environmentsMatrix(s.ctx, {});
    const staging = matrix.items.find((e) => e.name === 'staging')!;
    assert.equal(staging.deployments.length, 20);
    for (const cell of staging.deployments) assert.deepEqual(cell.train, { id: train.id, name: 'spring-2026' });
    const listed = await listTrainDeployments(s.ctx, train.id, { environment: 'staging' });
    assert.equal(listed.total, 1);
    assert.equal(listed.items[0].id, d.id);
    assert.deepEqual(
      (await listTrains(s.ctx, {})).items.map((x) => x.name),
      ['spring-2026'],
    );
  });
}

test("a train with one member the policy refuses commits nothing and answers 403 with that member's checks; approving the train for the environment approves exactly its members", async (t) => {
  const s = await deploySetup('pglite', { platform: DEFAULT_PLATFORM_CONFIG });
  t.after(s.cleanup);
  for (const p of ['api', 'web', 'jobs']) await addRelease(s.db, { project: p, number: 1 });
  await addRelease(s.db, { project: 'api', number: 2 });
  const train = await createTrain(s.ctx, alice, { name: 'rel-1', members: [member('api', '1'), member('web', '1'), member('jobs', '1')] });
  const before = git(s.remote, 'rev-parse', 'main');

  // production requires an approval: approve two of the three members one by one
  const { approve } = await import('../src/services/approve.js');
  for (const p of ['api', 'web'])
    await approve(s.ctx, bob, { repository: REPO, project: p, environment: 'production', release: '1', justification: 'CAB-1' });
  const dry = await checkTrain(s.ctx, alice, 'rel-1', 'production');
  assert.equal(dry.allowed, false);
  assert.deepEqual(
    dry.members.map((m) => [m.project, m.allowed]),
    [
      ['api', true],
      ['web', true],
      ['jobs', false],
    ],
  );
  const err = await rejects(deployTrain(s.ctx, alice, 'rel-1', { environment: 'production' }), 'policy_denied');
  assert.equal(err.status, 403);
  const refused = (err.details!.members as { project: string; allowed: boolean; checks: { name: string; ok: boolean }[] }[]).filter(
    (m) => !m.allowed,
  );
  assert.deepEqual(
    refused.map((m) => m.project),
    ['jobs'],
  );
  assert.equal(refused[0].checks.find((c) => c.name === 'approvals')!.ok, false);
  assert.match(err.message, /jobs may not be deployed to production/);
  assert.equal(git(s.remote, 'rev-parse', 'main'), before, 'nothing committed');
  assert.equal((await deployments.deploymentHistory(s.db, 'production', REPO, 'jobs', 10, 0)).total, 0, 'nothing recorded');
  assert.equal((await listTrainDeployments(s.ctx, 'rel-1', {})).total, 0);

  // approving the train approves exactly its members' releases (the two already approved are listed, not approved twice)
  const carol = who('carol@acme.test', 'approver:production');
  const given = await approveTrain(s.ctx, carol, 'rel-1', { environment: 'production', justification: 'CAB-2' });
  assert.deepEqual(given.approvals.map((a) => a.project).sort(), ['api', 'jobs', 'web']);
  // the answer says what was approved: every member judged now, as another deployer meets it (issue #17 review)
  assert.deepEqual(given.members.map((m) => [m.project, m.allowed]).sort(), [
    ['api', true],
    ['jobs', true],
    ['web', true],
  ]);
  const again = await approveTrain(s.ctx, carol, 'rel-1', { environment: 'production', justification: 'CAB-3' });
  assert.equal(again.approvals.length, 0);
  assert.equal(again.already_approved.length, 3);
  // release 2 of api is not a member: not approved
  const api2 = await checkTrain(
    s.ctx,
    alice,
    (await createTrain(s.ctx, alice, { name: 'rel-2', members: [member('api', '2')] })).id,
    'production',
  );
  assert.equal(api2.allowed, false);

  const d = await deployTrain(s.ctx, alice, train.id, { environment: 'production' });
  assert.equal(d.status, 'deployed');
  assert.deepEqual(
    touched(s.remote, d.gitops_commit_sha!),
    ['api', 'jobs', 'web'].map((p) => `A\t${path('production', p)}`),
  );
  // the commit says who approved each member, as a single deployment's does (issue #17 review)
  assert.match(
    git(s.remote, 'log', '-1', '--format=%B', 'main'),
    /- acme\/mono\/jobs: release 1 .*approved by: carol@acme\.test; deployment /,
  );
  // an approval of a member release counts for that release alone, in a single deployment too
  await addRelease(s.db, { project: 'jobs', number: 2 });
  await rejects(
    requestDeployment(s.ctx, alice, { repository: REPO, project: 'jobs', environment: 'production', release: '2' }),
    'policy_denied',
  );
});

test('a train is refused with a 400 naming the member: a release that does not exist, a project twice, more than trains.max_members; a taken name is 409; a caller without a deployer role 403', async (t) => {
  const s = await deploySetup('pglite', { platform: config('trains:\n  max_members: 2\n') });
  t.after(s.cleanup);
  for (const p of ['api', 'web', 'jobs']) await addRelease(s.db, { project: p, number: 1 });
  const fields = (e: ForgeError) => (e.details!.fields as { path: string }[]).map((f) => f.path);

  let e = await rejects(createTrain(s.ctx, alice, { name: 'x', members: [member('api', '1'), member('web', '9')] }), 'validation_error');
  assert.deepEqual(fields(e), ['members[1].release']);
  assert.match(e.message, /members\[1\]\.release: no release of acme\/mono\/web is named "9"/);
  e = await rejects(createTrain(s.ctx, alice, { name: 'x', members: [member('api', '1'), member('api', '1')] }), 'validation_error');
  assert.deepEqual(fields(e), ['members[1]']);
  assert.match(e.message, /members\[1\]: acme\/mono\/api is already members\[0\]/);
  e = await rejects(
    createTrain(s.ctx, alice, { name: 'x', members: [member('api', '1'), member('web', '1'), member('jobs', '1')] }),
    'validation_error',
  );
  assert.deepEqual(fields(e), ['members[2]']);
  assert.match(e.message, /at most 2 members \(trains\.max_members/);
  await rejects(
    createTrain(s.ctx, who('dan@acme.test', 'approver:staging'), { name: 'x', members: [member('api', '1')] }),
    'permission_denied',
  );
  await createTrain(s.ctx, who('op@acme.test', 'operator'), { name: 'x', members: [member('api', '1')] });
  await rejects(createTrain(s.ctx, alice, { name: 'x', members: [member('web', '1')] }), 'conflict');
  assert.equal((await listTrains(s.ctx, {})).total, 1);
});

for (const engine of ENGINES) {
  test(`train rollback puts every member back on the release it ran before, in one commit, and pins each (${engine})`, async (t) => {
    const s = await deploySetup(engine, { platform: config() });
    t.after(s.cleanup);
    for (const p of ['api', 'web']) for (const n of [1, 2]) await addRelease(s.db, { project: p, number: n });
    await createTrain(s.ctx, alice, { name: 'v1', members: [member('api', '1'), member('web', '1')] });
    await createTrain(s.ctx, alice, { name: 'v2', members: [member('api', '2'), member('web', '2')] });
    await rejects(rollbackTrain(s.ctx, alice, 'v2', { environment: 'staging' }), 'conflict');
    await deployTrain(s.ctx, alice, 'v1', { environment: 'staging' });
    const d2 = await deployTrain(s.ctx, alice, 'v2', { environment: 'staging' });
    assert.match(git(s.remote, 'log', '-1', '--format=%B', 'main'), /- acme\/mono\/api: release 2 \(v2\) \(previous: 1 \(v1\)/);

    const rb = await rollbackTrain(s.ctx, alice, 'v2', { environment: 'staging', reason: 'bad schema' });
    assert.equal(rb.kind, 'rollback');
    assert.equal(rb.rolls_back, d2.id);
    assert.equal(git(s.remote, 'rev-parse', 'main'), rb.gitops_commit_sha);
    assert.deepEqual(
      touched(s.remote, rb.gitops_commit_sha!),
      ['api', 'web'].map((p) => `M\t${path('staging', p)}`),
    );
    assert.match(git(s.remote, 'log', '-1', '--format=%B', 'main'), /^Rollback train v2 in staging \(2 projects\)/);
    for (const p of ['api', 'web']) {
      assert.equal(parsePointer(show(s.remote, 'main', path('staging', p))!).releaseNumber, 1);
      const active = (await deployments.activeDeployment(s.db, 'staging', REPO, p))!;
      assert.equal(active.release_number, 1);
      assert.equal(active.kind, 'rollback');
      assert.equal(active.gitops_commit_sha, rb.gitops_commit_sha);
      assert.ok(await getPin(s.db, 'staging', REPO, p), `${p} is pinned`);
    }
    // rolled back already: a second rollback would change nothing (issue #17 review)
    const again = await rejects(rollbackTrain(s.ctx, alice, 'v2', { environment: 'staging' }), 'conflict');
    assert.match(again.message, /train v2's deployment .* to staging was already rolled back/);
  });
}

test('train rollback after the train was deployed twice goes back before it; one member deployed on its own since is a 409 naming it, not undone silently (issue #17 review)', async (t) => {
  const s = await deploySetup('pglite', { platform: config() });
  t.after(s.cleanup);
  for (const p of ['api', 'web']) for (const n of [1, 2, 3]) await addRelease(s.db, { project: p, number: n });
  await createTrain(s.ctx, alice, { name: 'old', members: [member('api', '3'), member('web', '3')] });
  await createTrain(s.ctx, alice, { name: 'new', members: [member('api', '1'), member('web', '1')] });
  await deployTrain(s.ctx, alice, 'old', { environment: 'staging' });
  await deployTrain(s.ctx, alice, 'new', { environment: 'staging' });
  // a retry of the same train: each member's previous release is its own
  await deployTrain(s.ctx, alice, 'new', { environment: 'staging' });
  await rollbackTrain(s.ctx, alice, 'new', { environment: 'staging' });
  for (const p of ['api', 'web']) assert.equal((await deployments.activeDeployment(s.db, 'staging', REPO, p))!.release_number, 3, p);

  await deployTrain(s.ctx, alice, 'new', { environment: 'staging' });
  await requestDeployment(s.ctx, alice, { environment: 'staging', repository: REPO, project: 'web', release: '2' });
  const tip = git(s.remote, 'rev-parse', 'main');
  const moved = await rejects(rollbackTrain(s.ctx, alice, 'new', { environment: 'staging' }), 'conflict');
  assert.match(moved.message, /acme\/mono\/web runs release 2 now, deployed after the train/);
  assert.deepEqual(moved.details?.members, [{ repository: REPO, project: 'web', running: 2 }]);
  assert.equal(git(s.remote, 'rev-parse', 'main'), tip, 'nothing was committed');
});

test("two trains deployed at once through two replicas on one PostgreSQL: every shared member ends on one train's release, never a mix, nothing lost; git and the records agree", async (t) => {
  const s = await deploySetup('postgres', { platform: config() });
  t.after(s.cleanup);
  const shared = ['s1', 's2', 's3', 's4', 's5', 's6'];
  for (const p of [...shared, 'a-only', 'b-only']) for (const n of [1, 2]) await addRelease(s.db, { project: p, number: n });
  const other = await s.open('replica-b');
  for (let round = 0; round < 3; round++) {
    const a = await createTrain(s.ctx, alice, { name: `a-${round}`, members: [...shared, 'a-only'].map((p) => member(p, '1')) });
    const b = await createTrain(s.ctx, alice, {
      name: `b-${round}`,
      members: ['b-only', ...[...shared].reverse()].map((p) => member(p, '2')),
    });
    const results = await Promise.allSettled([
      deployTrain(s.ctx, alice, a.id, { environment: 'staging' }),
      deployTrain(other, alice, b.id, { environment: 'staging' }),
    ]);
    const landed = results.filter((r) => r.status === 'fulfilled');
    assert.ok(landed.length >= 1, JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))));
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as ForgeError).code, 'conflict', String(r.reason));
    // never a mix: every shared member runs the same release, the one of the train whose commit is the tip's
    const numbers = shared.map((p) => parsePointer(show(s.remote, 'main', path('staging', p))!).releaseNumber);
    assert.equal(new Set(numbers).size, 1, `mixed: ${numbers.join(',')}`);
    const winner = numbers[0] === 1 ? a : b;
    const winning = (await listTrainDeployments(s.ctx, winner.id, {})).items[0];
    assert.equal(winning.status, 'deployed');
    // nothing lost: each landed train's own member is there, and the records agree with git
    for (const r of landed) {
      const d = (r as PromiseFulfilledResult<Awaited<ReturnType<typeof deployTrain>>>).value;
      const own = d.train.name.startsWith('a-') ? 'a-only' : 'b-only';
      assert.equal(parsePointer(show(s.remote, 'main', path('staging', own))!).releaseNumber, d.train.name.startsWith('a-') ? 1 : 2);
    }
    for (const p of shared) {
      const active = (await deployments.activeDeployment(s.db, 'staging', REPO, p))!;
      assert.equal(parsePointer(show(s.remote, 'main', path('staging', p))!).deploymentId, active.id);
      assert.equal(active.train?.id, winner.id);
    }
    const loser = winner === a ? b : a;
    const lost = (await listTrainDeployments(s.ctx, loser.id, {})).items[0];
    assert.notEqual(lost.status, 'pending');
  }
});

test('a train member recovered alone (its replica died before the push) is never pushed alone: it ends failed', async (t) => {
  const s = await deploySetup('pglite', { platform: config() });
  t.after(s.cleanup);
  for (const p of ['api', 'web']) await addRelease(s.db, { project: p, number: 1 });
  const train = await createTrain(s.ctx, alice, { name: 'pair', members: [member('api', '1'), member('web', '1')] });
  await deployTrain(s.ctx, alice, 'pair', { environment: 'staging' });
  // a pending row tagged as a train member, pushed through the single-deployment queue as recovery would
  const release = (await deployments.activeDeployment(s.db, 'staging', REPO, 'api'))!;
  const { findById } = await import('../src/store/releases.js');
  const { decideDeployment } = await import('../src/services/deployment-policy.js');
  const env = s.ctx.platform.environments[0];
  const r = (await findById(s.db, release.release_id))!;
  const work = await recordPending(s.ctx, {
    kind: 'deploy',
    environment: 'staging',
    release: r,
    actor: alice.subject,
    decision: await decideDeployment(s.ctx, env, r, alice.subject, false),
    current: release,
  });
  const [td] = (await listTrainDeployments(s.ctx, train.id, {})).items;
  const { tagMembers } = await import('../src/store/trains.js');
  await tagMembers(s.db, [work.id], train.id, td.id);
  const tip = git(s.remote, 'rev-parse', 'main');
  const { failure } = await completeDeployment(s.ctx, work, true);
  assert.match(String(failure), /pushed together or not at all/);
  assert.equal(git(s.remote, 'rev-parse', 'main'), tip, 'nothing pushed');
  assert.equal((await deployments.getDeployment(s.db, work.id))!.status, 'failed');
});

test("forge env rename moves a train's deployments too: its history and rollback follow the new name (issue #17 review)", async (t) => {
  const s = await deploySetup('pglite', { platform: config() });
  t.after(s.cleanup);
  for (const p of ['api', 'web']) for (const n of [1, 2]) await addRelease(s.db, { project: p, number: n });
  await createTrain(s.ctx, alice, { name: 'one', members: [member('api', '1'), member('web', '1')] });
  await createTrain(s.ctx, alice, { name: 'two', members: [member('api', '2'), member('web', '2')] });
  await deployTrain(s.ctx, alice, 'one', { environment: 'staging' });
  await deployTrain(s.ctx, alice, 'two', { environment: 'staging' });
  const after = await s.open('cache-renamed');
  after.platform = parsePlatformConfig(`environments:\n  stage: ${POLICY}\n`);
  await renameEnvironment(after, 'olga@acme.test', 'staging', 'stage');
  assert.equal((await listTrainDeployments(after, 'two', { environment: 'stage' })).total, 1);
  assert.equal((await listTrainDeployments(after, 'two', { environment: 'staging' })).total, 0);
  const carl = who('carl@acme.test', 'deployer:stage');
  const rb = await rollbackTrain(after, carl, 'two', { environment: 'stage' });
  assert.equal(rb.kind, 'rollback');
  for (const p of ['api', 'web']) assert.equal((await deployments.activeDeployment(s.db, 'stage', REPO, p))!.release_number, 1, p);
});
