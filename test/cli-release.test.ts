/** The CLI side of the release registry: token create, release get/list/inspect, diff, errors and exit codes. */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Forge, releaseBody, runCli, sha, startForge } from './support/forge.js';

let forge: Forge;
let env: Record<string, string>;
before(async () => {
  forge = await startForge();
  const ci = await forge.token(['service-account']);
  for (let i = 1; i <= 2; i++) {
    const res = await forge.api(
      'POST',
      '/releases',
      releaseBody(
        {
          tags: i === 2 ? ['auth-service/v2.0.0'] : [],
          resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { n: String(i) } }],
        },
        sha(i),
      ),
      ci,
    );
    assert.equal(res.status, 201, res.text);
  }
  env = { FORGE_URL: forge.url, FORGE_TOKEN: await forge.token(['developer']), FORGE_DATA_DIR: forge.dataDir };
});
after(() => forge.stop());

const cli = (args: string[]) => runCli([...args, '--repository', 'acme/mono'], { env });

test('token create prints the token alone, or JSON with -o json, and the server accepts it', async () => {
  const plain = await runCli(['token', 'create', '--subject', 'ops@example.com', '--role', 'operator', '--data-dir', forge.dataDir]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  assert.equal((await forge.api('GET', '/projects', undefined, plain.stdout.trim())).status, 200);
  const json = await runCli([
    'token',
    'create',
    '--subject',
    'ci',
    '--role',
    'service-account',
    '--ttl',
    '1h',
    '-o',
    'json',
    '--data-dir',
    forge.dataDir,
  ]);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.subject, 'ci');
  assert.deepEqual(parsed.roles, ['service-account']);
  assert.ok(Date.parse(parsed.expires_at) > Date.now());
  const bad = await runCli(['token', 'create', '--subject', 'x', '--role', 'king', '--data-dir', forge.dataDir]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown role "king"/);
});

test('release get / list / inspect / diff', async () => {
  const get = await cli(['release', 'get', 'auth-service', 'v2.0.0', '-o', 'json']);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(JSON.parse(get.stdout).release_number, 2);
  const table = await cli(['release', 'get', 'auth-service', '2']);
  assert.match(table.stdout, /release\s+2 \(main-2, v2\.0\.0\)/);
  const list = await cli(['release', 'list', 'auth-service', '-o', 'json']);
  assert.deepEqual(
    JSON.parse(list.stdout).items.map((r: { release_number: number }) => r.release_number),
    [2, 1],
  );
  const inspect = await cli(['release', 'inspect', 'auth-service', '1', '-o', 'json']);
  assert.equal(inspect.code, 0, inspect.stderr);
  const info = JSON.parse(inspect.stdout);
  assert.deepEqual(
    info.layers.map((l: { mediaType: string }) => l.mediaType),
    ['application/vnd.forge.release.metadata.v1+json', 'application/vnd.forge.release.resources.v1+tar'],
  );
  assert.equal(info.metadata.release_number, 1);
  assert.equal(info.manifest_digest, JSON.parse((await cli(['release', 'get', 'auth-service', '1', '-o', 'json'])).stdout).oci_digest);
  // the semantic diff by default; the text diff with --format unified; the data with -o json
  const diff = await cli(['diff', 'auth-service', '1', '2']);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /^~ ConfigMap default\/cfg\n {4}~ data\.n:\n {8}- "1"\n {8}\+ "2"$/m);
  assert.match(diff.stdout, /^0 added, 0 removed, 1 changed, 0 unchanged$/m);
  const unified = await cli(['diff', 'auth-service', '1', '2', '--format', 'unified']);
  assert.equal(unified.code, 0, unified.stderr);
  assert.match(unified.stdout, /^-\s+"?n"?: "1"$/m);
  assert.match(unified.stdout, /^\+\s+"?n"?: "2"$/m);
  const data = JSON.parse((await cli(['diff', 'auth-service', '1', '2', '-o', 'json'])).stdout);
  assert.deepEqual(data.changed[0].changes, [{ path: 'data.n', old: '1', new: '2' }]);
  assert.equal((await cli(['diff', 'auth-service', '1', '2', '--format', 'side-by-side'])).code, 2);
});

test('errors: unknown release exits 1 with the server message; bad usage exits 2', async () => {
  const missing = await cli(['release', 'get', 'auth-service', 'v9']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no release of acme\/mono\/auth-service is named "v9"/);
  // a project with no release at all is named as such, not as a wrong reference (issue #14 review)
  const noProject = await cli(['release', 'get', 'nope', '1']);
  assert.equal(noProject.code, 1);
  assert.match(noProject.stderr, /no project acme\/mono\/nope: it has no release/);
  const usage = await cli(['release', 'get']);
  assert.equal(usage.code, 2);
  const format = await cli(['release', 'list', 'auth-service', '-o', 'xml']);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /expected table, json or yaml/);
  const help = await runCli(['release', 'inspect', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /pull the release image itself/);
});

test('release list walks page by page with --cursor, hinting the next page on stderr; --cursor with --offset is refused', async () => {
  const first = await cli(['release', 'list', 'auth-service', '--limit', '1']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^#\s+aliases/);
  assert.doesNotMatch(first.stdout, /more:/, 'stdout stays the table');
  const hint = /^more: --cursor (\S+)$/m.exec(first.stderr);
  assert.ok(hint, `a hint on stderr: ${first.stderr}`);
  const json = await cli(['release', 'list', 'auth-service', '--limit', '1', '-o', 'json']);
  assert.equal(JSON.parse(json.stdout).next, hint[1]);
  assert.equal(json.stderr, '', 'no hint with -o json: the page carries next');
  const second = await cli(['release', 'list', 'auth-service', '--limit', '1', '--cursor', hint[1], '-o', 'json']);
  assert.equal(second.code, 0, second.stderr);
  const page = JSON.parse(second.stdout);
  assert.deepEqual(
    page.items.map((r: { release_number: number }) => r.release_number),
    [1],
  );
  assert.equal(page.next, null);
  assert.equal(page.offset, 0);
  const last = await cli(['release', 'list', 'auth-service', '--limit', '1', '--cursor', hint[1]]);
  assert.equal(last.code, 0, last.stderr);
  assert.doesNotMatch(last.stderr, /more:/, 'no hint on the last page');

  for (const args of [
    ['release', 'list', 'auth-service', '--repository', 'acme/mono'],
    ['history', 'dev', 'auth-service', '--repository', 'acme/mono'],
    ['audit', 'list'],
    ['approvals', 'list'],
    ['break-glass', 'list'],
    ['train', 'list'],
    ['train', 'deployments', 'some-train'],
  ]) {
    const both = await runCli([...args, '--cursor', hint[1], '--offset', '1'], { env });
    assert.equal(both.code, 2, `${args.join(' ')}: ${both.stderr}`);
    assert.match(both.stderr, /give either --cursor or --offset, not both/, args.join(' '));
  }
});
