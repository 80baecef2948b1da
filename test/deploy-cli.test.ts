import assert from 'node:assert/strict';
import { test } from 'node:test';
import { releaseBody, runCli, sha, startForge } from './support/forge.js';
import { makeRemote } from './support/gitops.js';

test('CLI: deploy (and --dry-run), approve, approvals list|revoke, rollback, unpin, status, history, each with -o json', async (t) => {
  const repo = makeRemote({ 'README.md': 'x\n' });
  t.after(repo.cleanup);
  const f = await startForge({ env: { FORGE_GITOPS_URL: repo.remote } });
  t.after(() => f.stop());
  const ci = await f.token(['service-account'], 'ci');
  for (const n of [1, 2]) {
    const r = await f.api(
      'POST',
      '/releases',
      releaseBody({ trigger: { type: 'tag', tag: `auth-service/v1.0.${n}` }, tags: [`auth-service/v1.0.${n}`] }, sha(n)),
      ci,
    );
    assert.equal(r.status, 201, r.text);
  }
  // dev auto-deploys each new release; wait for the second to be active there
  const reader = await f.token(['developer'], 'dan');
  for (;;) {
    const r = await f.api('GET', '/deployments/dev/acme/mono/auth-service', undefined, reader);
    if (r.body?.release_number === 2) break;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  const as = async (subject: string, roles: string[]) => ({ FORGE_URL: f.url, FORGE_TOKEN: await f.token(roles, subject) });
  const alice = await as('alice@acme.test', ['deployer:production', 'deployer:staging']);
  const bob = await as('bob@acme.test', ['approver:production']);
  const cli = (env: Record<string, string>, ...args: string[]) =>
    runCli(args[0] === 'approvals' ? args : [...args, '--repository', 'acme/mono'], { env });
  const json = (r: { code: number | null; stdout: string; stderr: string }) => {
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  const dry = await cli(alice, 'deploy', 'production', 'auth-service', 'v1.0.1', '--dry-run');
  assert.equal(dry.code, 1);
  assert.match(dry.stdout, /approvals\s+NO\s+1\s+0/);
  assert.match(
    dry.stdout,
    /refused: "v1.0.1" is release \d+ \([0-9a-f]{12}, [^)]*v1.0.1[^)]*\) of auth-service; it may not be deployed to production/,
  );
  const dryJson = await cli(alice, 'deploy', 'production', 'auth-service', 'v1.0.1', '--dry-run', '-o', 'json');
  assert.equal(JSON.parse(dryJson.stdout).allowed, false);

  const refused = await cli(alice, 'deploy', 'production', 'auth-service', 'v1.0.1');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /approvals\s+NO/);
  assert.match(refused.stderr, /error: release 1 of acme\/mono\/auth-service may not be deployed to production/);

  const approval = json(await cli(bob, 'approve', 'production', 'auth-service', 'v1.0.1', '-j', 'CAB-9', '-o', 'json'));
  assert.equal(approval.justification, 'CAB-9');
  const missingJ = await cli(bob, 'approve', 'production', 'auth-service', 'v1.0.1');
  assert.equal(missingJ.code, 2);
  const queue = json(await cli(bob, 'approvals', 'list', '--environment', 'production', '-o', 'json'));
  assert.deepEqual(
    queue.items.map((a: { id: string }) => a.id),
    [approval.id],
  );

  const d1 = json(await cli(alice, 'deploy', 'production', 'auth-service', 'v1.0.1', '-o', 'json'));
  assert.equal(d1.status, 'active');
  await cli(bob, 'approve', 'production', 'auth-service', 'v1.0.2', '-j', 'CAB-10');
  const d2 = json(await cli(alice, 'deploy', 'production', 'auth-service', '2', '-o', 'json'));
  assert.equal(d2.release_number, 2);
  json(await cli(alice, 'deploy', 'staging', 'auth-service', '2', '-o', 'json'));

  const status = json(await cli(alice, 'status', '-o', 'json'));
  assert.deepEqual(status, [
    {
      project: 'acme/mono/auth-service',
      environments: {
        dev: { release_number: 2, aliases: ['v1.0.2'], pinned: false, cluster: null, drift: false },
        staging: { release_number: 2, aliases: ['v1.0.2'], pinned: false, cluster: null, drift: false },
        production: { release_number: 2, aliases: ['v1.0.2'], pinned: false, cluster: null, drift: false },
      },
    },
  ]);
  const statusTable = await cli(alice, 'status');
  assert.match(statusTable.stdout, /project\s+dev\s+staging\s+production\n/);
  assert.match(statusTable.stdout, /acme\/mono\/auth-service\s+2 \(v1.0.2\)\s+2 \(v1.0.2\)\s+2 \(v1.0.2\)/);

  const rb = json(await cli(alice, 'rollback', 'production', 'auth-service', '-o', 'json'));
  assert.equal(rb.kind, 'rollback');
  assert.equal(rb.release_number, 1);
  assert.match((await cli(alice, 'status')).stdout, /1 \(v1.0.1\) pinned/);
  const none = await cli(alice, 'rollback', 'staging', 'auth-service');
  assert.equal(none.code, 1);
  assert.match(none.stderr, /nothing to roll back to/);

  const history = json(await cli(alice, 'history', 'production', 'auth-service', '-o', 'json'));
  assert.deepEqual(
    history.items.map((d: { release_number: number; kind: string; status: string }) => [d.release_number, d.kind, d.status]),
    [
      [1, 'rollback', 'active'],
      [2, 'deploy', 'superseded'],
      [1, 'deploy', 'superseded'],
    ],
  );
  assert.match((await cli(alice, 'history', 'production', 'auth-service')).stdout, /rollback\s+active\s+alice@acme.test/);

  const unpinned = json(await cli(alice, 'unpin', 'production', 'auth-service', '-o', 'json'));
  assert.equal(unpinned.reason, 'rollback to release 1');
  assert.equal((await cli(alice, 'unpin', 'production', 'auth-service')).code, 1);

  const revoked = json(await cli(bob, 'approvals', 'revoke', approval.id, '-o', 'json'));
  assert.equal(revoked.status, 'revoked');
  assert.equal(json(await cli(bob, 'approvals', 'list', '--status', 'revoked', '-o', 'json')).total, 1);
  assert.equal((await cli(bob, 'approvals', 'list', '--status', 'gone')).code, 2);
});
