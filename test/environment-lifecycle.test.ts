/**
 * Environments removed or renamed while deployments exist (issue #12 item 4): start-up names
 * the orphans, status and doctor show them, a pending deployment to a removed environment is
 * never pushed, and `forge env rename` / `forge env retire` move or delete the pointers in one
 * GitOps commit with the records following. Real git remotes, PGlite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { DEFAULT_PLATFORM_CONFIG, type PlatformConfig, parsePlatformConfig } from '../src/core/platform-config.js';
import { parsePointer } from '../src/core/pointer.js';
import { approve } from '../src/services/approve.js';
import { requestDeployment } from '../src/services/deploy.js';
import { deploymentHistoryOf } from '../src/services/deployment-reads.js';
import { listOrphans, renameEnvironment, retireEnvironment } from '../src/services/environment-lifecycle.js';
import { compareWithGit } from '../src/services/gitops-truth.js';
import { completeDeployment, recordPending } from '../src/services/outbox.js';
import { pinProject } from '../src/services/pins.js';
import { requestRollback } from '../src/services/rollback.js';
import * as deployments from '../src/store/deployments.js';
import { getPin } from '../src/store/pins.js';
import { ENGINES } from './support/db.js';
import { addRelease, deploySetup, REPO, who } from './support/deploy.js';
import { releaseBody, runCli, sha, spawnForge, startForge, tempDir } from './support/forge.js';
import { git, makeRemote, show } from './support/gitops.js';

const alice = who('alice@acme.test', 'deployer:dev', 'deployer:staging', 'deployer:stage', 'deployer:production');
const olga = 'olga@acme.test';
const POLICY = '{ promotion_policy: { allowed_triggers: [branch_push, tag, manual], allowed_branches: ["*"] } }';
const config = (...envs: string[]): PlatformConfig =>
  parsePlatformConfig(['environments:', ...envs.map((e) => `  ${e}: ${POLICY}`)].join('\n'));
const slot = (environment: string, project = 'api') => ({ repository: REPO, project, environment });
const path = (environment: string, project = 'api') => `${environment}/apps/acme/mono/${project}/release.yaml`;

/** The files one commit changed, `<status>\t<path>` sorted. */
const touched = (remote: string, rev: string) =>
  git(remote, 'show', '--no-renames', '--name-status', '--format=', rev).split('\n').filter(Boolean).sort();

for (const engine of ENGINES) {
  test(`rename: every pointer moves in one commit, history, rollback and pins follow under the new name; again changes nothing (${engine})`, async (t) => {
    const s = await deploySetup(engine, {
      platform: config('dev', 'staging'),
      seed: { 'README.md': 'gitops\n', 'staging/env.yaml': 'kept\n', 'dev/env.yaml': 'env\n' },
    });
    t.after(s.cleanup);
    for (const project of ['api', 'web']) for (const n of [1, 2]) await addRelease(s.db, { project, number: n });
    for (const n of ['1', '2']) await requestDeployment(s.ctx, alice, { ...slot('staging'), release: n });
    await requestDeployment(s.ctx, alice, { ...slot('staging', 'web'), release: '1' });
    await requestDeployment(s.ctx, alice, { ...slot('dev'), release: '1' });
    await pinProject(s.ctx, alice, { ...slot('staging', 'web'), reason: 'hold' });
    const before = git(s.remote, 'rev-parse', 'main');

    // The config renames staging to stage; the replicas restart with it.
    const after = await s.open('cache-renamed');
    after.platform = config('dev', 'stage');
    const orphans = await listOrphans(after);
    assert.deepEqual(orphans.map((o) => [o.environment, o.project, o.release_number, o.in_git]).sort(), [
      ['staging', 'api', 2, true],
      ['staging', 'web', 1, true],
    ]);

    const renamed = await renameEnvironment(after, olga, 'staging', 'stage', 'config renamed');
    assert.equal(renamed.changed, true);
    assert.equal(renamed.deployments, 3, 'both deployments of api and the one of web moved');
    const tip = git(s.remote, 'rev-parse', 'main');
    assert.equal(git(s.remote, 'rev-parse', `${tip}^`), before, 'one commit');
    assert.equal(renamed.gitops_commit_sha, tip);
    assert.deepEqual(touched(s.remote, tip), [
      `A\t${path('stage')}`,
      `A\t${path('stage', 'web')}`,
      `D\t${path('staging')}`,
      `D\t${path('staging', 'web')}`,
    ]);
    assert.equal(show(s.remote, 'main', 'staging/env.yaml'), 'kept\n', 'only pointer files move');
    const moved = parsePointer(show(s.remote, 'main', path('stage'))!);
    assert.equal(moved.environment, 'stage');
    assert.equal(moved.releaseNumber, 2);

    // The database follows: active, history, pins; git and database agree.
    const active = (await deployments.activeDeployment(s.db, 'stage', REPO, 'api'))!;
    assert.equal(active.release_number, 2);
    assert.equal(active.id, moved.deploymentId);
    assert.equal(active.gitops_commit_sha, tip);
    assert.equal((await deploymentHistoryOf(after, { env: 'stage', owner: 'acme', name: 'mono', project: 'api' }, 20, 0)).total, 2);
    assert.equal((await getPin(s.db, 'stage', REPO, 'web'))?.reason, 'hold');
    assert.equal((await deployments.activeDeployment(s.db, 'staging', REPO, 'api')) ?? null, null);
    assert.deepEqual((await compareWithGit(after)).disagreements, []);
    const audit = await s.db.query<{ actor: string; details: unknown }>(
      `select actor, details from audit_log where action = 'environment.renamed'`,
    );
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor, olga);

    // Rollback under the new name: release 1 comes back, in stage.
    const rolled = await requestRollback(after, alice, slot('stage'));
    assert.equal(rolled.status, 'active');
    assert.equal(rolled.release_number, 1);
    assert.equal(parsePointer(show(s.remote, 'main', path('stage'))!).releaseNumber, 1);

    // Again: nothing to do, no commit, no audit entry.
    const tipNow = git(s.remote, 'rev-parse', 'main');
    const again = await renameEnvironment(after, olga, 'staging', 'stage');
    assert.deepEqual([again.changed, again.gitops_commit_sha, again.deployments], [false, null, 0]);
    assert.equal(git(s.remote, 'rev-parse', 'main'), tipNow);
    assert.equal((await s.db.query(`select 1 from audit_log where action = 'environment.renamed'`)).length, 1);
  });

  test(`retire: its pointers go in one commit, its active deployments end retired, other environments untouched; again changes nothing (${engine})`, async (t) => {
    const s = await deploySetup(engine, {
      platform: config('dev', 'staging'),
      seed: { 'README.md': 'gitops\n', 'staging/env.yaml': 'kept\n' },
    });
    t.after(s.cleanup);
    for (const project of ['api', 'web']) await addRelease(s.db, { project, number: 1 });
    for (const project of ['api', 'web']) await requestDeployment(s.ctx, alice, { ...slot('staging', project), release: '1' });
    await requestDeployment(s.ctx, alice, { ...slot('dev'), release: '1' });
    const before = git(s.remote, 'rev-parse', 'main');
    const after = await s.open('cache-retired');
    after.platform = config('dev');

    const retired = await retireEnvironment(after, olga, 'staging', 'decommissioned');
    assert.deepEqual([retired.changed, retired.deployments], [true, 2]);
    const tip = git(s.remote, 'rev-parse', 'main');
    assert.equal(git(s.remote, 'rev-parse', `${tip}^`), before);
    assert.deepEqual(touched(s.remote, tip), [`D\t${path('staging')}`, `D\t${path('staging', 'web')}`]);
    assert.equal(show(s.remote, 'main', 'staging/env.yaml'), 'kept\n');
    assert.ok(show(s.remote, 'main', path('dev')), 'dev keeps its pointer');
    const rows = await s.db.query<{ status: string; error: string }>(`select status, error from deployments where environment = 'staging'`);
    assert.deepEqual(
      rows.map((r) => r.status),
      ['retired', 'retired'],
    );
    assert.match(rows[0].error, /retired by olga@acme\.test: decommissioned/);
    assert.equal((await deployments.activeDeployment(s.db, 'dev', REPO, 'api'))?.release_number, 1);
    assert.deepEqual((await compareWithGit(after)).disagreements, [], 'nothing orphaned is left');
    assert.equal((await s.db.query(`select 1 from audit_log where action = 'environment.retired'`)).length, 1);

    const again = await retireEnvironment(after, olga, 'staging');
    assert.deepEqual([again.changed, again.gitops_commit_sha], [false, null]);
    assert.equal(git(s.remote, 'rev-parse', 'main'), tip);
  });
}

test('rename refuses what would overwrite the new name, a configured old name and a bad name: nothing committed (pglite)', async (t) => {
  const s = await deploySetup('pglite', { platform: config('staging', 'stage') });
  t.after(s.cleanup);
  await addRelease(s.db, { number: 1 });
  await requestDeployment(s.ctx, alice, { ...slot('staging'), release: '1' });
  await requestDeployment(s.ctx, alice, { ...slot('stage'), release: '1' });
  const before = git(s.remote, 'rev-parse', 'main');
  const still = await renameEnvironment(s.ctx, olga, 'staging', 'stage').catch((e) => e);
  assert.ok(still instanceof ForgeError && still.code === 'conflict', String(still));
  assert.match(still.message, /"staging" is still in the platform config/);
  const after = await s.open('cache-2');
  after.platform = config('stage');
  const clash = await renameEnvironment(after, olga, 'staging', 'stage').catch((e) => e);
  assert.ok(clash instanceof ForgeError && clash.code === 'conflict', String(clash));
  assert.match(clash.message, /"stage" already runs acme\/mono\/api/);
  const unknown = await renameEnvironment(after, olga, 'staging', 'nowhere').catch((e) => e);
  assert.match(unknown.message, /"nowhere" is not in the platform config/);
  const bad = await renameEnvironment(after, olga, 'staging', 'Stage_2').catch((e) => e);
  assert.ok(bad instanceof ForgeError && bad.code === 'validation_error');
  assert.equal(git(s.remote, 'rev-parse', 'main'), before, 'nothing committed');
  assert.equal((await deployments.activeDeployment(s.db, 'staging', REPO, 'api'))?.release_number, 1, 'nothing moved');
});

for (const engine of ENGINES) {
  test(`rename never puts a release into an environment whose policy refuses it: 403 policy_denied naming each project, nothing committed or moved; a permissive new name still works (${engine})`, async (t) => {
    // The review's repro: default config, a branch-push release without approvals in staging;
    // the config then holds dev, stage and production, and staging is renamed to production.
    const s = await deploySetup(engine, { platform: DEFAULT_PLATFORM_CONFIG });
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1 });
    await addRelease(s.db, { number: 2, trigger: { type: 'branch_push', branch: 'main' } });
    await addRelease(s.db, { project: 'web', number: 1 });
    const dana = who('dana@acme.test', 'deployer:staging');
    await requestDeployment(s.ctx, dana, { ...slot('staging'), release: '2' });
    await requestDeployment(s.ctx, dana, { ...slot('staging', 'web'), release: '1' });
    const before = git(s.remote, 'rev-parse', 'main');
    const rows = () =>
      s.db.query<{ id: string; environment: string; status: string; gitops_commit_sha: string | null }>(
        'select id, environment, status, gitops_commit_sha from deployments order by id',
      );
    const rowsBefore = await rows();

    const after = await s.open('cache-merged');
    after.platform = parsePlatformConfig(
      [
        'environments:',
        `  dev: ${POLICY}`,
        `  stage: ${POLICY}`,
        '  production: { promotion_policy: { allowed_triggers: [tag, manual], allowed_branches: [main], requires_approval: true } }',
      ].join('\n'),
    );
    const refusedNow = async () => {
      const e = await renameEnvironment(after, olga, 'staging', 'production').catch((x) => x);
      assert.ok(e instanceof ForgeError && e.code === 'policy_denied', String(e));
      return e as ForgeError & {
        details: { refused: { repository: string; project: string; release_number: number; checks: { name: string }[] }[] };
      };
    };
    const refused = await refusedNow();
    assert.match(
      refused.message,
      /renaming "staging" to "production" would put releases into "production" that its promotion policy refuses/,
    );
    assert.match(refused.message, /acme\/mono\/api release 2 \(triggers: [^)]*; approvals: needs 1 active approval/);
    assert.match(refused.message, /acme\/mono\/web release 1 \(approvals: /);
    assert.deepEqual(
      refused.details.refused.map((r) => [r.project, r.release_number, r.checks.map((c) => c.name)]),
      [
        ['api', 2, ['triggers', 'approvals']],
        ['web', 1, ['approvals']],
      ],
    );
    // Nothing committed, nothing moved, nothing audited.
    assert.equal(git(s.remote, 'rev-parse', 'main'), before, 'nothing committed');
    assert.equal(show(s.remote, 'main', path('production')), null);
    assert.ok(show(s.remote, 'main', path('staging')));
    assert.deepEqual(await rows(), rowsBefore, 'the database is unchanged');
    assert.equal((await s.db.query(`select 1 from audit_log where action = 'environment.renamed'`)).length, 0);

    // The kind, not the input: an approval for production lets web through, api (branch push) is still refused alone.
    await approve(after, who('paula@acme.test', 'approver:production'), {
      ...slot('production', 'web'),
      release: '1',
      justification: 'ok for production',
    });
    const still = await refusedNow();
    assert.deepEqual(
      still.details.refused.map((r) => [r.project, r.checks.map((c) => c.name)]),
      [['api', ['triggers', 'approvals']]],
    );
    assert.doesNotMatch(still.message, /acme\/mono\/web/);
    assert.equal(git(s.remote, 'rev-parse', 'main'), before, 'still nothing committed');

    // Into a name whose policy allows them (a plain rename), it works.
    const renamed = await renameEnvironment(after, olga, 'staging', 'stage');
    assert.deepEqual([renamed.changed, renamed.deployments], [true, 2]);
    assert.equal(parsePointer(show(s.remote, 'main', path('stage'))!).releaseNumber, 2);
    assert.equal((await deployments.activeDeployment(s.db, 'stage', REPO, 'web'))?.release_number, 1);
    const [audit] = await s.db.query<{ details: { moved_deployment_ids: string[]; gitops_commit_sha: string } }>(
      `select details from audit_log where action = 'environment.renamed'`,
    );
    assert.deepEqual(
      [...audit.details.moved_deployment_ids].sort(),
      rowsBefore.map((r) => r.id).sort(),
      'the audit names every moved record',
    );
    assert.equal(audit.details.gitops_commit_sha, git(s.remote, 'rev-parse', 'main'));
  });
}

for (const engine of ENGINES) {
  test(`a pending deployment to an environment the config no longer has is never pushed: it ends failed, saying why (${engine})`, async (t) => {
    const s = await deploySetup(engine, { platform: config('dev', 'staging') });
    t.after(s.cleanup);
    const release = await addRelease(s.db, { number: 1 });
    const before = git(s.remote, 'rev-parse', 'main');
    // Recorded while staging was configured; completed by a replica whose config no longer has it.
    const after = await s.open('cache-removed');
    after.platform = config('dev');
    const work = await recordPending(after, {
      kind: 'deploy',
      environment: 'staging',
      release,
      actor: alice.subject,
      decision: { allowed: true, checks: [], approvalIds: [], approvers: [] } as never,
    });
    const { failure } = await completeDeployment(after, work);
    assert.match(String(failure?.message), /environment "staging" is no longer configured; nothing was pushed/);
    const row = (await deployments.getDeployment(s.db, work.id))!;
    assert.equal(row.status, 'failed');
    assert.match(row.error ?? '', /no longer configured/);
    assert.equal(git(s.remote, 'rev-parse', 'main'), before, 'nothing pushed');
    assert.equal(show(s.remote, 'main', path('staging')), null);
  });
}

test('a server started with an environment renamed: start-up warns, status and doctor show the orphan, env rename is operator-only and fixes it (pglite, forge serve)', async (t) => {
  const repo = makeRemote({ 'README.md': 'gitops\n' });
  t.after(repo.cleanup);
  const dir = tempDir();
  const file = join(dir, 'forge.yaml');
  const write = (...envs: string[]) => writeFileSync(file, ['environments:', ...envs.map((e) => `  ${e}: ${POLICY}`)].join('\n'));
  write('dev', 'staging');
  const dataDir = tempDir();
  const env = { FORGE_GITOPS_URL: repo.remote, FORGE_CONFIG: file };
  const first = await startForge({ dataDir, env });
  const ci = await first.token(['service-account'], 'ci');
  const deployer = await first.token(['deployer:staging', 'deployer:stage'], 'dana@acme.test');
  const ops = await first.token(['operator'], 'olga@acme.test');
  for (const n of [1, 2]) assert.equal((await first.api('POST', '/releases', releaseBody({}, sha(n)), ci)).status, 201);
  for (const n of ['1', '2']) {
    const d = await first.api(
      'POST',
      '/deployments',
      { repository: 'acme/mono', project: 'auth-service', environment: 'staging', release: n },
      deployer,
    );
    assert.equal(d.status, 201, d.text);
  }
  await first.stop();

  write('dev', 'stage');
  const f = await spawnForge({ dataDir, env });
  t.after(() => f.stop());
  const pointer = 'staging/apps/acme/mono/auth-service/release.yaml';
  assert.match(
    f.stderr(),
    new RegExp(`warning: environment "staging" is not in the platform config, but 1 deployment of it remains: ${pointer} \\(release 2\\)`),
  );

  const orphans = await f.api('GET', '/environments/orphans', undefined, deployer);
  assert.equal(orphans.status, 200, orphans.text);
  assert.deepEqual(
    orphans.body.items.map((o: { environment: string; path: string; release_number: number; in_git: boolean }) => [
      o.environment,
      o.path,
      o.release_number,
      o.in_git,
    ]),
    [['staging', pointer, 2, true]],
  );
  const doctor = await f.api('GET', '/doctor', undefined, ops);
  assert.equal(doctor.body.ok, false);
  assert.ok(
    doctor.body.findings.some((x: { check: string; problem: string }) => x.check === 'environments' && x.problem.includes(pointer)),
  );
  const cli = (args: string[], token: string) => runCli(args, { env: { FORGE_URL: f.url, FORGE_TOKEN: token } });
  const status = await cli(['status', '--repository', 'acme/mono'], deployer);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /orphaned \(not in the platform config/);
  assert.match(status.stdout, /staging\s+acme\/mono\/auth-service\s+2/);
  const statusJson = await cli(['status', '--repository', 'acme/mono', '-o', 'json'], deployer);
  assert.doesNotThrow(() => JSON.parse(statusJson.stdout), 'json stays parseable');
  assert.match(statusJson.stderr, /warning: orphaned/);

  // Operator-only; names are checked.
  const denied = await f.api('POST', '/environments/staging/rename', { new_name: 'stage' }, deployer);
  assert.equal(denied.status, 403, denied.text);
  assert.equal(denied.body.error.code, 'permission_denied');
  for (const [url, body] of [
    ['/environments/Staging!/rename', { new_name: 'stage' }],
    ['/environments/staging/rename', { new_name: 'Stage_2' }],
    ['/environments/staging/rename', {}],
    ['/environments/-x/retire', {}],
  ] as const) {
    const bad = await f.api('POST', url, body, ops);
    assert.equal(bad.status, 400, `${url} ${JSON.stringify(body)}: ${bad.text}`);
    assert.equal(bad.body.error.code, 'validation_error');
  }

  const help = await cli(['env', 'rename', '--help'], ops);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /one GitOps commit/);
  const renamed = await cli(['env', 'rename', 'staging', 'stage', '--reason', 'config renamed', '-o', 'json'], ops);
  assert.equal(renamed.code, 0, renamed.stderr);
  const change = JSON.parse(renamed.stdout);
  assert.equal(change.changed, true);
  assert.deepEqual(change.pointers, [{ from: pointer, to: 'stage/apps/acme/mono/auth-service/release.yaml' }]);
  assert.equal(change.gitops_commit_sha, git(repo.remote, 'rev-parse', 'main'));

  const history = await f.api('GET', '/deployments/stage/acme/mono/auth-service/history', undefined, deployer);
  assert.equal(history.status, 200, history.text);
  assert.deepEqual(
    history.body.items.map((d: { release_number: number }) => d.release_number),
    [2, 1],
  );
  const rollback = await f.api(
    'POST',
    '/deployments/rollback',
    { repository: 'acme/mono', project: 'auth-service', environment: 'stage' },
    deployer,
  );
  assert.equal(rollback.status, 201, rollback.text);
  assert.equal(rollback.body.release_number, 1);
  const clean = await f.api('GET', '/doctor', undefined, ops);
  assert.deepEqual(
    clean.body.findings.filter((x: { check: string }) => ['environments', 'pointers', 'pending_deployments'].includes(x.check)),
    [],
  );
  const again = await cli(['env', 'rename', 'staging', 'stage'], ops);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /nothing to move/);
  const retireOther = await cli(['env', 'retire', 'Bad_Name'], ops);
  assert.notEqual(retireOther.code, 0);
  assert.match(retireOther.stderr, /validation_error|must match|environment/);
});
