/**
 * The CLI's error cases of issue 14: unknown projects and repositories exit non-zero; a
 * non-Forge server, a port in use and a bad platform config each get a one-line explanation and
 * a hint; validate and release create refuse a folder outside any repository; release create
 * checks the server and the token before it builds anything.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Forge, releaseBody, runCli, sha, startForge, tempDir } from './support/forge.js';
import { makeRepo, projectCue } from './support/pipeline-repo.js';

let forge: Forge;
let env: Record<string, string>;
before(async () => {
  forge = await startForge();
  const ci = await forge.token(['service-account']);
  const res = await forge.api('POST', '/releases', releaseBody({}, sha(1)), ci);
  assert.equal(res.status, 201, res.text);
  env = { FORGE_URL: forge.url, FORGE_TOKEN: await forge.token(['developer']) };
});
after(() => forge.stop());

/** stderr's `error:` line and `hint:` line. */
function explained(stderr: string, error: RegExp, hint: RegExp) {
  const lines = stderr.trim().split('\n');
  assert.match(lines[0], /^error: /, stderr);
  assert.match(lines[0], error);
  assert.ok(
    lines.some((l) => /^hint: /.test(l) && hint.test(l)),
    `a hint matching ${hint} in:\n${stderr}`,
  );
}

test('unknown projects and repositories exit 1 naming what exists; known but empty answers exit 0', async () => {
  const status = await runCli(['status', 'nope', '--repository', 'acme/mono'], { env });
  assert.equal(status.code, 1, status.stdout);
  explained(status.stderr, /no project nope in acme\/mono has releases/, /known projects: auth-service/);

  const list = await runCli(['release', 'list', 'auth-service', '--repository', 'acme/mnoo'], { env });
  assert.equal(list.code, 1);
  explained(list.stderr, /no releases of repository acme\/mnoo/, /known repositories: acme\/mono/);

  const history = await runCli(['history', 'dev', 'nope', '--repository', 'acme/mono'], { env });
  assert.equal(history.code, 1);
  assert.match(history.stderr, /no project nope in acme\/mono/);

  // A real project is an answer, not an error.
  const known = await runCli(['status', 'auth-service', '--repository', 'acme/mono'], { env });
  assert.equal(known.code, 0, known.stderr);
  assert.match(known.stdout, /^acme\/mono\/auth-service +1 /m);
  const listed = await runCli(['release', 'list', 'auth-service', '--repository', 'acme/mono', '-o', 'json'], { env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(JSON.parse(listed.stdout).total, 1);
});

test('a server that is not Forge, or none at all: one line saying so, and a hint', async (t) => {
  for (const [status, type, body] of [
    [404, 'text/plain', 'Not Found'],
    [200, 'text/html', '<html>hello</html>'],
    [500, 'application/json', '{"message":"boom"}'],
  ] as const) {
    const other = createHttpServer((_req, res) => res.writeHead(status, { 'content-type': type }).end(body));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    t.after(() => other.close());
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    const r = await runCli(['status', '--repository', 'acme/mono'], { env: { ...env, FORGE_URL: url } });
    assert.equal(r.code, 1);
    explained(
      r.stderr,
      new RegExp(`${url} is not a Forge server: GET /api/v1/(environments|overview)\\?.* answered ${status}`),
      /FORGE_URL/,
    );
  }
  const down = await runCli(['status', '--repository', 'acme/mono'], { env: { ...env, FORGE_URL: 'http://127.0.0.1:9' } });
  assert.equal(down.code, 1);
  explained(down.stderr, /cannot reach the Forge server at http:\/\/127\.0\.0\.1:9/, /forge serve/);
  // How people write the URL wrong (issue 14 review): no scheme, https to plain http, the API's own prefix.
  const host = forge.url.replace(/^http:\/\//, '');
  const bare = await runCli(['whoami'], { env: { ...env, FORGE_URL: host } });
  assert.equal(bare.code, 1);
  explained(bare.stderr, new RegExp(`"${host}" is not an http\\(s\\) URL`), /with its scheme, e\.g\. http:\/\//);
  const tls = await runCli(['whoami'], { env: { ...env, FORGE_URL: `https://${host}` } });
  assert.equal(tls.code, 1);
  explained(tls.stderr, /the TLS handshake failed \(the server does not speak https\)/, new RegExp(`use http://${host}`));
  const prefixed = await runCli(['whoami', '-o', 'json'], { env: { ...env, FORGE_URL: `${forge.url}/api/v1/` } });
  assert.equal(prefixed.code, 0, prefixed.stderr);
  assert.ok(JSON.parse(prefixed.stdout).roles.includes('developer'));
});

test('forge serve: a port in use, a bad platform config and a database it cannot use are one line and a hint, before the server starts', async (t) => {
  const busy: Server = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.after(() => busy.close());
  const port = (busy.address() as AddressInfo).port;
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const inUse = await runCli(['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir]);
  assert.equal(inUse.code, 1);
  explained(inUse.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`), /--port or FORGE_PORT/);

  const config = join(dataDir, 'forge.yaml');
  writeFileSync(config, 'environments:\n  - name: dev\n    auto_deploy: [maybe\n');
  const bad = await runCli(['serve', '--port', '0', '--data-dir', dataDir, '--config', config]);
  assert.equal(bad.code, 1);
  explained(bad.stderr, /forge\.yaml/, /docs\//);

  const missing = await runCli(['serve', '--port', '0', '--data-dir', dataDir, '--config', join(dataDir, 'nope.yaml')]);
  assert.equal(missing.code, 1);
  explained(missing.stderr, /cannot read the platform config .*nope\.yaml: ENOENT/, /--config/);

  const badPort = await runCli(['serve', '--port', 'eighty', '--data-dir', dataDir]);
  assert.equal(badPort.code, 1);
  explained(badPort.stderr, /invalid port "eighty"/, /0 to 65535/);

  // A database that cannot be used: what is wrong, where (never the password), and what to fix.
  const database = async (url: string, error: RegExp, hint: RegExp) => {
    const r = await runCli(['serve', '--port', '0', '--data-dir', dataDir], { env: { FORGE_DATABASE_URL: url } });
    assert.equal(r.code, 1, r.stderr);
    explained(r.stderr, error, hint);
    assert.doesNotMatch(r.stderr, /s3cr3t/);
  };
  await database('not a url s3cr3t', /FORGE_DATABASE_URL is not a postgres:\/\/ or a postgresql:\/\/ URL/, /docs\//);
  await database('postgres://bob:s3cr3t@127.0.0.1:9/x', /database at 127\.0\.0\.1:9\/x .*ECONNREFUSED/, /start PostgreSQL/);
  await database('postgres://bob:s3cr3t@nohost.invalid/x', /database at nohost\.invalid:5432\/x .*ENOTFOUND/, /fix the host/);
});

test('validate and release create refuse a folder that is in no repository, without walking it', async (t) => {
  const dir = tempDir('forge-norepo-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'big/deep'), { recursive: true });
  for (const args of [['validate'], ['release', 'create', '--dry-run']]) {
    const r = await runCli(args, { cwd: dir, env: { ...env, GIT_CEILING_DIRECTORIES: dir } });
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(
        `is not inside a repository \\(no git checkout, no \\.forge/repo\\.cue above it\\); forge ${args[0] === 'validate' ? 'validate' : 'release create'} runs in a repository's checkout`,
      ),
    );
    assert.equal(r.stdout, '');
  }
  const missing = await runCli(['validate', join(dir, 'nope')], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope: no such directory/);
});

test('release create checks the server and the token before building anything', async (t) => {
  const repo = makeRepo({
    'services/api/.forge/project.cue': projectCue(
      'api',
      `release: on: [{branch: "main"}]
artifacts: bin: {type: "binary", producer: command: {run: "echo built > out; touch BUILT", output: "out"}, publishers: r: oci: repository: "127.0.0.1:9/acme/api"}
deployment: resources: [{apiVersion: "v1", kind: "ConfigMap", metadata: name: "a"}]`,
    ),
  });
  t.after(() => repo.remove());
  repo.commit();
  const base = { GITHUB_REF: '', GITHUB_SHA: '', HOME: repo.dir };
  const down = await runCli(['release', 'create', '--repository', 'acme/mono'], {
    cwd: repo.dir,
    env: { ...base, FORGE_URL: 'http://127.0.0.1:9', FORGE_TOKEN: 'x' },
  });
  assert.equal(down.code, 1);
  explained(down.stderr, /cannot reach the Forge server/, /forge serve/);
  assert.doesNotMatch(down.stderr, /build and publish/);

  const notCi = await runCli(['release', 'create', '--repository', 'acme/mono'], { cwd: repo.dir, env: { ...base, ...env } });
  assert.equal(notCi.code, 1);
  explained(notCi.stderr, /registering releases needs the service-account role/, /forge token create --subject ci --role service-account/);

  const badToken = await runCli(['release', 'create', '--repository', 'acme/mono'], {
    cwd: repo.dir,
    env: { ...base, FORGE_URL: forge.url, FORGE_TOKEN: 'not-a-token' },
  });
  assert.equal(badToken.code, 1);
  assert.match(badToken.stderr, /^error: .*token/im);
  assert.doesNotMatch(badToken.stderr, /build and publish/);
  assert.throws(() => statSync(join(repo.dir, 'services/api/BUILT')), /ENOENT/, 'the producer never ran');
});

test('a misspelt project field is an error naming the field it looks like, never an empty release', async (t) => {
  for (const [field, near] of [
    ['deploymnet', 'deployment'],
    ['relase', 'release'],
    ['artifact', 'artifacts'],
  ]) {
    const repo = makeRepo({ 'svc/.forge/project.cue': projectCue('svc', `${field}: {}`) });
    t.after(() => rmSync(repo.dir, { recursive: true, force: true }));
    const r = await runCli(['validate'], { cwd: repo.dir, env });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`svc/\\.forge/project\\.cue:4: ${field}: not a project field; did you mean "${near}"\\?`));
  }
});

test('credentials in the server URL are masked in every message, unreachable or not Forge', async (t) => {
  const url = 'http://user:canary-secret-9@127.0.0.1:9';
  const down = await runCli(['status', '--repository', 'acme/mono'], { env: { ...env, FORGE_URL: url } });
  assert.equal(down.code, 1);
  assert.doesNotMatch(down.stderr + down.stdout, /canary-secret-9/);
  explained(down.stderr, /cannot reach the Forge server at http:\/\/\*\*\*@127\.0\.0\.1:9/, /forge serve/);
  const other = createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no'));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.after(() => other.close());
  const port = (other.address() as AddressInfo).port;
  const notForge = await runCli(['status', '--repository', 'acme/mono'], {
    env: { ...env, FORGE_URL: `http://u:canary-secret-9@127.0.0.1:${port}` },
  });
  assert.equal(notForge.code, 1);
  assert.doesNotMatch(notForge.stderr + notForge.stdout, /canary-secret-9/);
});

test('token create: a new key is announced with where the server must find it; no role is a usage error', async (t) => {
  const dir = tempDir('forge-token-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await runCli(['token', 'create', '--subject', 'me', '--role', 'operator', '--data-dir', dir], { env: {} });
  assert.equal(first.code, 0, first.stderr);
  assert.match(
    first.stderr,
    /^warning: created a new token key at .*token-key; a server accepts this token only if it uses the same key \(forge serve --data-dir /,
  );
  const second = await runCli(['token', 'create', '--subject', 'me', '--role', 'operator', '--data-dir', dir], { env: {} });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stderr, '');
  const roleless = await runCli(['token', 'create', '--subject', 'me', '--data-dir', dir], { env: {} });
  assert.equal(roleless.code, 2);
  assert.match(roleless.stderr, /needs at least one --role/);
});
