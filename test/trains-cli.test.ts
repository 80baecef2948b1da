/**
 * Release trains through the HTTP API (with its OpenAPI document) and the CLI (issue #17):
 * `forge train create|show|list|deploy|deployments|approve|rollback|diff`, each with -o json,
 * against a real server, registry and GitOps remote.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { releaseBody, runCli, sha, startForge } from './support/forge.js';
import { git, makeRemote } from './support/gitops.js';

test("trains over HTTP and the CLI: create (400 naming the member), show, list, deploy (refused whole with each member's checks, then approved), diff with the semantic diff, rollback", async (t) => {
  const repo = makeRemote({ 'README.md': 'x\n' });
  t.after(repo.cleanup);
  const f = await startForge({ env: { FORGE_GITOPS_URL: repo.remote } });
  t.after(() => f.stop());
  const ci = await f.token(['service-account'], 'ci');
  let n = 0;
  for (const project of ['api', 'web'])
    for (const v of [1, 2]) {
      const tag = `${project}/v1.0.${v}`;
      const body = releaseBody({ project, trigger: { type: 'tag', tag }, tags: [tag] }, sha(++n));
      body.resources[1] = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${project}-config` }, data: { a: String(v) } };
      const r = await f.api('POST', '/releases', body, ci);
      assert.equal(r.status, 201, r.text);
    }
  const aliceToken = await f.token(['deployer:staging', 'deployer:production'], 'alice@acme.test');
  const alice = { FORGE_URL: f.url, FORGE_TOKEN: aliceToken };
  const bob = { FORGE_URL: f.url, FORGE_TOKEN: await f.token(['approver:production'], 'bob@acme.test') };
  const json = (r: { code: number | null; stdout: string; stderr: string }) => {
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };

  // the API: a release that does not exist is a 400 naming the member
  const bad = await f.api(
    'POST',
    '/trains',
    {
      name: 'bad',
      members: [
        { repository: 'acme/mono', project: 'api', release: '1' },
        { repository: 'acme/mono', project: 'web', release: 'v9' },
      ],
    },
    aliceToken,
  );
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.body.error.details.fields[0].path, 'members[1].release');
  const reader = await f.token(['developer'], 'dan');
  assert.equal((await f.api('POST', '/trains', { name: 'x', members: [] }, reader)).status, 403);
  const openapi = await f.api('GET', '/openapi.json', undefined, reader);
  for (const p of [
    '/api/v1/trains',
    '/api/v1/trains/{train}',
    '/api/v1/trains/{train}/deployments',
    '/api/v1/trains/{train}/rollbacks',
    '/api/v1/trains/{train}/diff/{other}',
  ])
    assert.ok(openapi.body.paths[p], `OpenAPI has ${p}`);

  const help = await runCli(['train', 'deploy', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /one GitOps commit/);

  const v1 = json(
    await runCli(['train', 'create', 'v1', 'api=v1.0.1', 'acme/mono/web=1', '--repository', 'acme/mono', '-o', 'json'], { env: alice }),
  );
  assert.deepEqual(
    v1.members.map((m: { project: string; release_number: number }) => [m.project, m.release_number]),
    [
      ['api', 1],
      ['web', 1],
    ],
  );
  const v2 = json(await runCli(['train', 'create', 'v2', 'acme/mono/api=2', 'acme/mono/web=1', '-o', 'json'], { env: alice }));
  const usage = await runCli(['train', 'create', 'v3', 'api'], { env: alice });
  assert.equal(usage.code, 2, usage.stderr);
  assert.equal(json(await runCli(['train', 'show', v1.id, '-o', 'json'], { env: alice })).name, 'v1');
  assert.deepEqual(
    json(await runCli(['train', 'list', '-o', 'json'], { env: alice })).items.map((x: { name: string }) => x.name),
    ['v2', 'v1'],
  );

  const staged = json(await runCli(['train', 'deploy', 'staging', 'v1', '-o', 'json'], { env: alice }));
  assert.equal(staged.status, 'deployed');
  assert.equal(git(repo.remote, 'rev-parse', 'main'), staged.gitops_commit_sha);
  assert.deepEqual(git(repo.remote, 'show', '--name-only', '--format=', staged.gitops_commit_sha).split('\n').filter(Boolean).sort(), [
    'staging/apps/acme/mono/api/release.yaml',
    'staging/apps/acme/mono/web/release.yaml',
  ]);
  const cell = await f.api('GET', '/deployments/staging/acme/mono/api', undefined, reader);
  assert.deepEqual(cell.body.train, { id: v1.id, name: 'v1' });

  // production needs approvals: refused whole, each member's checks printed, nothing committed
  const tip = git(repo.remote, 'rev-parse', 'main');
  const dry = await runCli(['train', 'deploy', 'production', 'v1', '--dry-run', '-o', 'json'], { env: alice });
  assert.equal(dry.code, 1);
  assert.deepEqual(
    JSON.parse(dry.stdout).members.map((m: { allowed: boolean }) => m.allowed),
    [false, false],
  );
  const refused = await runCli(['train', 'deploy', 'production', 'v1'], { env: alice });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /acme\/mono\/api release 1: REFUSED/);
  assert.match(refused.stderr, /approvals\s+NO/);
  // the error line says it once: the checks above carry each member's reasons (issue #17 review)
  assert.match(
    refused.stderr,
    /^error: train v1 may not be deployed to production, so nothing was committed: 2 member\(s\) refused \(their checks are above\)$/m,
  );
  const http = await f.api('POST', `/trains/v1/deployments`, { environment: 'production' }, aliceToken);
  assert.equal(http.status, 403);
  assert.equal(http.body.error.code, 'policy_denied');
  assert.equal(http.body.error.details.members.length, 2);
  assert.equal(git(repo.remote, 'rev-parse', 'main'), tip);

  const approved = json(await runCli(['train', 'approve', 'production', 'v1', '-j', 'CAB-7', '-o', 'json'], { env: bob }));
  assert.equal(approved.approvals.length, 2);
  const prod = json(await runCli(['train', 'deploy', 'production', 'v1', '-o', 'json'], { env: alice }));
  assert.equal(prod.status, 'deployed');
  assert.equal(json(await runCli(['train', 'deployments', 'v1', '-o', 'json'], { env: alice })).total, 2);

  const diff = json(await runCli(['train', 'diff', 'v1', 'v2', '-o', 'json'], { env: alice }));
  const api = diff.members.find((m: { project: string }) => m.project === 'api');
  assert.equal(api.change, 'changed');
  assert.deepEqual(
    api.diff.changed.map((c: { name: string }) => c.name),
    ['api-config'],
  );
  assert.equal(diff.members.find((m: { project: string }) => m.project === 'web').change, 'unchanged');
  const diffText = await runCli(['train', 'diff', 'v1', 'v2'], { env: alice });
  assert.match(diffText.stdout, /acme\/mono\/api: release 1 -> 2/);

  json(await runCli(['train', 'deploy', 'staging', 'v2', '-o', 'json'], { env: alice }));
  const back = json(await runCli(['train', 'rollback', 'staging', 'v2', '-o', 'json'], { env: alice }));
  assert.equal(back.kind, 'rollback');
  assert.deepEqual(
    back.members.map((m: { project: string; release_number: number }) => [m.project, m.release_number]),
    [
      ['api', 1],
      ['web', 1],
    ],
  );
  void v2;
});
