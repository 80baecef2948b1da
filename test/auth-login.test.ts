/**
 * `forge login` / `forge whoami` (issue 6, acceptance 2): a pasted token or the device flow of
 * a real OIDC provider; the credentials file has mode 0600 and client commands use it.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, type Forge, REPO_ROOT, runCli, startForge, tempDir } from './support/forge.js';
import { FORGE_AUDIENCE, type Idp, startIdp } from './support/oidc.js';

describe('forge login, whoami, logout', () => {
  let idp: Idp;
  let forge: Forge;
  let configDir: string;
  const env = () => ({ FORGE_CONFIG_DIR: configDir, FORGE_URL: forge.url, FORGE_TOKEN: '' });
  before(async () => {
    idp = await startIdp({ accounts: { alice: { groups: ['staging-deployers'] } } });
    forge = await startForge({
      env: {
        FORGE_OIDC_ISSUER: idp.issuer,
        FORGE_OIDC_AUDIENCE: FORGE_AUDIENCE,
        FORGE_OIDC_ROLE_MAP: JSON.stringify({ groups: { 'staging-deployers': ['deployer:staging'] }, default_roles: ['developer'] }),
      },
    });
    configDir = join(tempDir(), 'forge-config');
  });
  after(async () => {
    await forge.stop();
    await idp.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  test('without credentials, client commands are refused with a hint', async () => {
    const res = await runCli(['whoami'], { env: env() });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /needs a bearer token/);
  });

  test('a pasted token (stdin) is checked with the server, stored with mode 0600 and used by client commands', async () => {
    const token = await forge.token(['operator'], 'ops@example.com');
    const login = await runCli(['login', '--token', '-'], { env: env(), input: `${token}\n` });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /logged in to http:\/\/127\.0\.0\.1:\d+ as ops@example\.com \(operator\)/);
    const file = join(configDir, 'credentials.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(configDir).mode & 0o777, 0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(stored.servers[forge.url].token, token);
    assert.ok(!login.stderr.includes(token) && !login.stdout.includes(token), 'the token is not printed');

    const me = await runCli(['whoami', '-o', 'json'], { env: env() });
    assert.equal(me.code, 0, me.stderr);
    assert.deepEqual(JSON.parse(me.stdout), { subject: 'ops@example.com', roles: ['operator'] });
    const table = await runCli(['whoami'], { env: env() });
    assert.match(table.stdout, /subject\s+ops@example\.com\nroles\s+operator/);
    assert.equal((await runCli(['audit', 'verify'], { env: env() })).code, 0, 'other client commands use the stored token');
    // --token / FORGE_TOKEN still win over the stored login.
    const dev = await forge.token(['developer'], 'dev@example.com');
    assert.equal(
      JSON.parse((await runCli(['whoami', '-o', 'json'], { env: { ...env(), FORGE_TOKEN: dev } })).stdout).subject,
      'dev@example.com',
    );
  });

  test('a token the server refuses is not stored', async () => {
    const before = readFileSync(join(configDir, 'credentials.json'), 'utf8');
    const res = await runCli(['login', '--token', 'garbage'], { env: env() });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /not valid for this server/);
    assert.equal(readFileSync(join(configDir, 'credentials.json'), 'utf8'), before);
  });

  test('the device flow of the OIDC issuer: the person approves in the browser, the CLI stores the token', async () => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'login', '--issuer', idp.issuer, '--client-id', idp.cliClientId, '--audience', FORGE_AUDIENCE],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const exited = new Promise<number | null>((r) => proc.on('close', r));
    try {
      const prompt = await new Promise<RegExpExecArray>((ok, fail) => {
        proc.stderr.on('data', (c) => {
          stderr += c;
          const m = /open (\S+)\nand check that it shows the code (\S+)/.exec(stderr);
          if (m) ok(m);
        });
        proc.on('close', () => fail(new Error(`login exited early: ${stderr}`)));
      });
      const [, uri, code] = prompt;
      await idp.approveDevice(new URL(uri).origin + new URL(uri).pathname, code, 'alice');
      assert.equal(await exited, 0, stderr);
    } finally {
      proc.kill();
    }
    assert.match(stderr, /as alice@example\.com \[http:\/\/127\.0\.0\.1:\d+#alice\] \(deployer:staging, developer\)/);
    const stored = JSON.parse(readFileSync(join(configDir, 'credentials.json'), 'utf8')).servers[forge.url];
    assert.equal(stored.issuer, idp.issuer);
    assert.equal(stored.client_id, 'forge-cli');
    assert.ok(stored.refresh_token, 'offline_access gave a refresh token');
    assert.ok(Date.parse(stored.expires_at) > Date.now());
    const me = await runCli(['whoami', '-o', 'json'], { env: env() });
    assert.deepEqual(JSON.parse(me.stdout), {
      subject: `${idp.issuer}#alice`,
      display: 'alice@example.com',
      roles: ['deployer:staging', 'developer'],
    });
  });

  test('an expired stored token is refreshed with the refresh token', async () => {
    const file = join(configDir, 'credentials.json');
    const content = JSON.parse(readFileSync(file, 'utf8'));
    const old = content.servers[forge.url].token;
    content.servers[forge.url].expires_at = new Date(Date.now() - 1000).toISOString();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
    const me = await runCli(['whoami', '-o', 'json'], { env: env() });
    assert.equal(me.code, 0, me.stderr);
    assert.equal(JSON.parse(me.stdout).subject, `${idp.issuer}#alice`);
    const after = JSON.parse(readFileSync(file, 'utf8')).servers[forge.url];
    assert.notEqual(after.token, old);
    assert.ok(Date.parse(after.expires_at) > Date.now());
  });

  test('login without an issuer or a token is a usage error; logout forgets the server', async () => {
    const usage = await runCli(['login'], { env: { ...env(), FORGE_OIDC_ISSUER: '', FORGE_OIDC_CLIENT_ID: '' } });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give the OIDC issuer and the CLI's client id/);
    const out = await runCli(['logout'], { env: env() });
    assert.equal(out.code, 0);
    assert.ok(!existsSync(join(configDir, 'credentials.json')));
    assert.equal((await runCli(['whoami'], { env: env() })).code, 1);
  });
});
