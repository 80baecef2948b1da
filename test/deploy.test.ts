import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment } from '../src/contract/index.js';
import { ForgeError } from '../src/core/errors.js';
import { parsePlatformConfig } from '../src/core/platform-config.js';
import { parsePointer } from '../src/core/pointer.js';
import { approve } from '../src/services/approve.js';
import { autoDeploy } from '../src/services/auto-deploy.js';
import { requestDeployment } from '../src/services/deploy.js';
import { pinProject, unpinProject } from '../src/services/pins.js';
import { checkPolicy } from '../src/services/policy-check.js';
import { requestRollback } from '../src/services/rollback.js';
import * as deployments from '../src/store/deployments.js';
import { getPin } from '../src/store/pins.js';
import { ENGINES } from './support/db.js';
import { addRelease, deploySetup, operator, REPO, who } from './support/deploy.js';
import { git, show } from './support/gitops.js';

const API = 'dev/apps/acme/mono/api/release.yaml';
/** The tip commit's message without its audit anchor trailer (issue 13 item 8), which every Forge commit must carry. */
function tipMessage(remote: string): string {
  const body = git(remote, 'log', '-1', '--format=%B', 'main');
  const m = /^([\s\S]*)\n\nForge-Audit-Head: [1-9][0-9]* [0-9a-f]{64}$/.exec(body);
  assert.ok(m, `the commit anchors the audit head:\n${body}`);
  return m[1];
}
const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof ForgeError && e.code === c && (!re || re.test(e.message));
const alice = who('alice@acme.test', 'deployer:dev', 'deployer:staging', 'deployer:production');

for (const engine of ENGINES) {
  test(`deploy: pending → active with one commit, pointer and message as designed; the previous one superseded (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    const r1 = await addRelease(s.db, { number: 1, tags: ['v1.0.0'] });
    const r2 = await addRelease(s.db, { number: 2, trigger: { type: 'branch_push', branch: 'main' } });
    const first = await requestDeployment(s.ctx, alice, {
      repository: REPO,
      project: 'api',
      environment: 'dev',
      release: 'v1.0.0',
      reason: 'first',
    });
    assert.equal(first.created, true);
    const d1 = first.deployment;
    assert.equal(d1.status, 'active');
    assert.equal(d1.kind, 'deploy');
    assert.equal(d1.release_number, 1);
    assert.equal(d1.gitops_commit_sha, git(s.remote, 'rev-parse', 'main'));
    const pointer = parsePointer(show(s.remote, 'main', API)!);
    assert.deepEqual(pointer, {
      repository: REPO,
      project: 'api',
      environment: 'dev',
      release: r1.commit_sha,
      digest: r1.oci_digest,
      releaseNumber: 1,
      aliases: ['v1.0.0'],
      deploymentId: d1.id,
      deployedBy: 'alice@acme.test',
      deployedAt: d1.deployed_at,
      approvedBy: [],
    });
    assert.equal(
      tipMessage(s.remote),
      `Deploy api to dev: release 1 (v1.0.0)\n\nRepository: acme/mono\nRelease: ${r1.commit_sha}\nPrevious release: none\nDeployed by: alice@acme.test\nApproved by: none\nDeployment: ${d1.id}`,
    );
    assert.equal(show(s.remote, 'main', 'dev/env.yaml'), 'env\n');

    const second = (await requestDeployment(s.ctx, alice, { repository: REPO, project: 'api', environment: 'dev', release: '2' }))
      .deployment;
    assert.equal(second.status, 'active');
    assert.equal(second.previous_release_number, 1);
    assert.match(
      tipMessage(s.remote),
      new RegExp(`^Deploy api to dev: release 2 \\(sha ${r2.commit_sha.slice(0, 7)}\\)\n[^]*Previous release: 1 \\(v1.0.0\\)`),
    );
    assert.equal((await deployments.getDeployment(s.db, d1.id))!.status, 'superseded');
    assert.equal((await deployments.activeDeployment(s.db, 'dev', REPO, 'api'))!.id, second.id);
    const history = await deployments.deploymentHistory(s.db, 'dev', REPO, 'api', 20, 0);
    assert.deepEqual(
      history.items.map((d) => [d.release_number, d.status]),
      [
        [2, 'active'],
        [1, 'superseded'],
      ],
    );
  });

  test(`deploying the release already active answers it without a new commit (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1 });
    const first = await requestDeployment(s.ctx, alice, { repository: REPO, project: 'api', environment: 'dev', release: '1' });
    const tip = git(s.remote, 'rev-parse', 'main');
    const again = await requestDeployment(s.ctx, alice, { repository: REPO, project: 'api', environment: 'dev', release: 'v1' });
    assert.equal(again.created, false);
    assert.equal(again.deployment.id, first.deployment.id);
    assert.equal(git(s.remote, 'rev-parse', 'main'), tip);
    assert.equal((await deployments.deploymentHistory(s.db, 'dev', REPO, 'api', 20, 0)).total, 1);
  });

  test(`order of refusals: 403 permission_denied, then 400/404, then 403 policy_denied with every check (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1, trigger: { type: 'branch_push', branch: 'feature/x' } });
    const dev = who('dan@acme.test', 'developer');
    await assert.rejects(
      requestDeployment(s.ctx, dev, { repository: 'Bad//repo', project: 'api', environment: 'dev', release: 'nope' }),
      code('permission_denied', /needs the deployer:dev or operator role/),
    );
    await assert.rejects(
      requestDeployment(s.ctx, who('d', 'deployer:dev'), { repository: REPO, project: 'api', environment: 'production', release: '1' }),
      code('permission_denied'),
    );
    await assert.rejects(
      requestDeployment(s.ctx, operator, { repository: 'Bad//repo', project: 'api', environment: 'dev', release: '1' }),
      code('validation_error'),
    );
    await assert.rejects(
      requestDeployment(s.ctx, operator, { repository: REPO, project: 'api', environment: 'qa', release: '1' }),
      code('not_found', /environment "qa" is not configured; known environments: dev, staging, production/),
    );
    await assert.rejects(
      requestDeployment(s.ctx, operator, { repository: REPO, project: 'api', environment: 'dev', release: 'v9' }),
      code('not_found'),
    );
    const refused = await requestDeployment(s.ctx, alice, { repository: REPO, project: 'api', environment: 'staging', release: '1' }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(code('policy_denied', /branches: branch "feature\/x" matches none of "main", "release\/\*"/)(refused));
    const checks = (refused as ForgeError).details!.checks as { name: string; ok: boolean }[];
    assert.deepEqual(
      checks.map((c) => [c.name, c.ok]),
      [
        ['triggers', true],
        ['branches', false],
        ['approvals', true],
      ],
    );
    // the dry run answers the same checks and deploys nothing
    const dry = await checkPolicy(s.ctx, alice, { repository: REPO, project: 'api', environment: 'staging', release: '1' });
    assert.deepEqual({ allowed: dry.allowed, checks: dry.checks }, { allowed: false, checks });
    assert.equal(dry.release.release_number, 1, 'and names the release it resolved');
    assert.equal(await deployments.activeDeployment(s.db, 'staging', REPO, 'api'), undefined);
    assert.equal((await deployments.deploymentHistory(s.db, 'staging', REPO, 'api', 20, 0)).total, 0);
  });

  test(`production needs an approval by someone else; approvals are not used up (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1, tags: ['v1'] });
    await addRelease(s.db, { number: 2, tags: ['v2'] });
    const prod = { repository: REPO, project: 'api', environment: 'production' };
    await assert.rejects(
      requestDeployment(s.ctx, alice, { ...prod, release: 'v1' }),
      code('policy_denied', /approvals: needs 1 active approval/),
    );
    // alice approving her own deployment does not count
    await approve(s.ctx, who('alice@acme.test', 'approver:production', 'deployer:production'), {
      ...prod,
      release: 'v1',
      justification: 'mine',
    });
    await assert.rejects(requestDeployment(s.ctx, alice, { ...prod, release: 'v1' }), code('policy_denied', /own approval does not count/));
    const bob = who('bob@acme.test', 'approver:production');
    await approve(s.ctx, bob, { ...prod, release: 'v1', justification: 'CAB-12 approved' });
    await approve(s.ctx, bob, { ...prod, release: 'v2', justification: 'CAB-13 approved' });
    const d1 = (await requestDeployment(s.ctx, alice, { ...prod, release: 'v1' })).deployment;
    assert.equal(d1.status, 'active');
    assert.deepEqual(d1.approved_by, ['bob@acme.test']);
    assert.equal(d1.approval_ids.length, 1);
    assert.match(tipMessage(s.remote), /Approved by: bob@acme.test/);
    assert.deepEqual(parsePointer(show(s.remote, 'main', 'production/apps/acme/mono/api/release.yaml')!).approvedBy, ['bob@acme.test']);
    await requestDeployment(s.ctx, alice, { ...prod, release: 'v2' });
    // the approval of v1 still holds for a second deployment of v1
    const again = await requestDeployment(s.ctx, alice, { ...prod, release: 'v1' });
    assert.equal(again.created, true);
    assert.equal(again.deployment.status, 'active');
  });

  test(`rollback goes to the release active before, pins, and a second rollback returns; nothing to roll back is 409 (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    const dev = { repository: REPO, project: 'api', environment: 'dev' };
    await assert.rejects(
      requestRollback(s.ctx, alice, dev),
      code('conflict', /nothing to roll back: no release of acme\/mono\/api is active in dev/),
    );
    await addRelease(s.db, { number: 1, tags: ['v1.2.2'] });
    await addRelease(s.db, { number: 2, tags: ['v1.2.3'] });
    await addRelease(s.db, { number: 3, tags: ['v1.2.4'] });
    await requestDeployment(s.ctx, alice, { ...dev, release: '1' });
    await assert.rejects(requestRollback(s.ctx, alice, dev), code('conflict', /nothing to roll back to: release 1 is the only release/));
    await requestDeployment(s.ctx, alice, { ...dev, release: '2' });
    await requestDeployment(s.ctx, alice, { ...dev, release: '2' }); // a no-op redeploy is not an activation
    await requestDeployment(s.ctx, alice, { ...dev, release: '3' });
    const back = await requestRollback(s.ctx, alice, dev);
    assert.equal(back.kind, 'rollback');
    assert.equal(back.status, 'active');
    assert.equal(back.release_number, 2);
    assert.equal(
      tipMessage(s.remote),
      'Rollback api in dev to release 2 (v1.2.3)\n\nPrevious release: 3 (v1.2.4)\nRolled back by: alice@acme.test',
    );
    assert.equal(parsePointer(show(s.remote, 'main', API)!).releaseNumber, 2);
    const pin = await getPin(s.db, 'dev', REPO, 'api');
    assert.equal(pin?.pinned_by, 'alice@acme.test');
    assert.equal(pin?.deployment_id, back.id);
    const forth = await requestRollback(s.ctx, alice, dev);
    assert.equal(forth.release_number, 3, 'a second rollback returns to where the first started');
  });

  test(`auto-deploy: deploys to auto_deploy environments the policy admits, records refusals, skips pinned until unpinned (${engine})`, async (t) => {
    const platform = parsePlatformConfig(
      [
        'environments:',
        '  dev: { promotion_policy: { allowed_triggers: [branch_push, tag], allowed_branches: [main], auto_deploy: true } }',
        '  preview: { promotion_policy: { allowed_triggers: [branch_push], allowed_branches: ["feature/*"], auto_deploy: true } }',
        '  production: { promotion_policy: { allowed_triggers: [tag], requires_approval: true } }',
      ].join('\n'),
    );
    const s = await deploySetup(engine, { platform });
    t.after(s.cleanup);
    const r1 = await addRelease(s.db, { number: 1, trigger: { type: 'branch_push', branch: 'main' } });
    const started = await autoDeploy(s.ctx, r1);
    assert.deepEqual(
      started.map((a) => [a.environment, a.status]),
      [
        ['dev', 'pending'],
        ['preview', 'failed'],
      ],
    );
    await s.ctx.close(); // waits for the background push
    const dev = await deployments.getDeployment(s.db, started[0].id);
    assert.equal(dev!.status, 'active');
    assert.equal(dev!.kind, 'auto');
    assert.equal(dev!.deployed_by, 'forge:auto-deploy');
    assert.equal(parsePointer(show(s.remote, 'main', API)!).deploymentId, dev!.id);
    const preview = await deployments.getDeployment(s.db, started[1].id);
    assert.equal(preview!.status, 'failed');
    assert.match(preview!.error!, /branches: branch "main" matches none of "feature\/\*"/);
    assert.deepEqual(
      preview!.policy_checks!.map((c) => c.name),
      ['triggers', 'branches', 'approvals', 'pin'],
    );
    assert.equal(show(s.remote, 'main', 'preview/apps/acme/mono/api/release.yaml'), null);

    const ctx = await s.open('cache-2');
    await pinProject(ctx, alice, { repository: REPO, project: 'api', environment: 'dev', reason: 'freeze' });
    const r2 = await addRelease(s.db, { number: 2, trigger: { type: 'branch_push', branch: 'main' } });
    const skipped = await autoDeploy(ctx, r2);
    assert.deepEqual(
      skipped.map((a) => [a.environment, a.status]),
      [
        ['dev', 'failed'],
        ['preview', 'failed'],
      ],
    );
    assert.match((await deployments.getDeployment(s.db, skipped[0].id))!.error!, /pin: the environment\/project is pinned \(freeze\)/);
    await unpinProject(ctx, alice, { repository: REPO, project: 'api', environment: 'dev' });
    await assert.rejects(unpinProject(ctx, alice, { repository: REPO, project: 'api', environment: 'dev' }), code('not_found'));
    const r3 = await addRelease(s.db, { number: 3, trigger: { type: 'branch_push', branch: 'main' } });
    const resumed = await autoDeploy(ctx, r3);
    assert.equal(resumed[0].status, 'pending');
    await ctx.close();
    assert.equal((await deployments.activeDeployment(s.db, 'dev', REPO, 'api'))!.release_number, 3);
    // a manual deployment is not blocked by a pin
    await pinProject(ctx, alice, { repository: REPO, project: 'api', environment: 'dev' });
    assert.equal(
      (await requestDeployment(ctx, alice, { repository: REPO, project: 'api', environment: 'dev', release: '2' })).deployment.status,
      'active',
    );
  });

  test(`two replicas deploying one project at once: the later landed is active and the pointer matches (${engine})`, async (t) => {
    const s = await deploySetup(engine);
    t.after(s.cleanup);
    for (let n = 1; n <= 6; n++) await addRelease(s.db, { number: n });
    const other = await s.open('cache-2');
    const dev = { repository: REPO, project: 'api', environment: 'dev' };
    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => requestDeployment(n % 2 ? s.ctx : other, alice, { ...dev, release: String(n) })),
    );
    const active = (await deployments.activeDeployment(s.db, 'dev', REPO, 'api'))!;
    assert.equal(parsePointer(show(s.remote, 'main', API)!).deploymentId, active.id);
    assert.equal(active.gitops_commit_sha, git(s.remote, 'log', '-1', '--format=%H', 'main', '--', API));
    for (const r of results) {
      const d = (await deployments.getDeployment(s.db, r.deployment.id))!;
      assert.ok(['active', 'superseded'].includes(d.status));
      // Pushed, or not pushed because a deployment recorded after it already ran (issue #12 item 2).
      assert.ok(d.gitops_commit_sha || /a newer deployment .* was pushed while this one waited/.test(d.error ?? ''), JSON.stringify(d));
    }
  });
}

test('a GitOps repository that is gone fails the deployment at once with 502 gitops_rejected and leaves it failed (issue #12 item 5)', async (t) => {
  const s = await deploySetup('pglite');
  t.after(s.cleanup);
  await addRelease(s.db, { number: 1 });
  const { renameSync } = await import('node:fs');
  renameSync(s.remote, `${s.remote}.gone`);
  const err = await requestDeployment(s.ctx, alice, { repository: REPO, project: 'api', environment: 'dev', release: '1' }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(code('gitops_rejected', /does not appear to be a git repository/)(err), String(err));
  const d = (err as ForgeError).details!.deployment as Deployment;
  assert.equal(d.status, 'failed');
  assert.match(d.error!, /GitOps repository .* refused the (fetch|push)/);
  assert.equal(await deployments.activeDeployment(s.db, 'dev', REPO, 'api'), undefined);
});
