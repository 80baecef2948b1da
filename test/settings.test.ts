/**
 * Settings are read once per entry point (src/server/settings.ts, src/cli/settings.ts,
 * src/cmp/settings.ts): bad numbers stop the start naming the variable, and secrets from the
 * environment never become commander defaults (which `--help` and usage errors print).
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { loadCliSettings } from '../src/cli/settings.js';
import { loadCmpSettings } from '../src/cmp/settings.js';
import { defaultMaxConnections, loadSettings } from '../src/server/settings.js';
import { runCli } from './support/forge.js';

const SERVER_NUMBERS = [
  'FORGE_DEPLOY_LEASE_MS',
  'FORGE_GITOPS_PUSH_ATTEMPTS',
  'FORGE_FAULT_PAUSE_BEFORE_GITOPS_PUSH_MS',
  'FORGE_FAULT_PAUSE_AFTER_GITOPS_PUSH_MS',
  'FORGE_FAULT_PAUSE_AFTER_PUSH_MS',
  'FORGE_REGISTRY_TIMEOUT_MS',
  'FORGE_BODY_LIMIT_BYTES',
  'FORGE_MAX_RESOURCES',
  'FORGE_MAX_CONNECTIONS',
  'FORGE_HEADERS_TIMEOUT_MS',
  'FORGE_REQUEST_TIMEOUT_MS',
];

test('server: a number setting that is not a number stops the start, naming the variable', () => {
  for (const name of SERVER_NUMBERS) {
    for (const bad of ['abc', '1.5', '-1', '12ms', '1e3']) {
      assert.throws(
        () => loadSettings({ dataDir: '/tmp/forge-settings' }, { [name]: bad }),
        (err: Error) => {
          assert.match(err.message, new RegExp(`^${name} is "${bad.replace('.', '\\.')}"; expected a (positive|non-negative) integer`));
          return true;
        },
        `${name}=${bad}`,
      );
    }
  }
  const webhooks = JSON.stringify([{ name: 'chat', url: 'https://x', secret: '0123456789abcdef' }]);
  assert.throws(() => loadSettings({}, { FORGE_WEBHOOKS: webhooks, FORGE_WEBHOOK_POLL_MS: 'soon' }), /FORGE_WEBHOOK_POLL_MS is "soon"/);
  assert.throws(
    () => loadSettings({}, { FORGE_OIDC_ISSUER: 'https://idp.example', FORGE_OIDC_AUDIENCE: 'forge', FORGE_OIDC_CLOCK_SKEW: 'a bit' }),
    /FORGE_OIDC_CLOCK_SKEW is "a bit"/,
  );
  assert.throws(() => loadSettings({}, { FORGE_DEPLOY_LEASE_MS: '0' }), /FORGE_DEPLOY_LEASE_MS is "0"; expected a positive integer/);
});

test('server: the deployment settings and their defaults', () => {
  const s = loadSettings({ dataDir: '/tmp/forge-settings' }, {});
  assert.equal(s.gitopsAuthor, 'Forge <forge@localhost>');
  assert.equal(s.gitopsPushAttempts, 25);
  assert.equal(s.deployLeaseMs, 30_000);
  assert.deepEqual(s.faults, { pauseBeforeGitopsPushMs: 0, pauseAfterGitopsPushMs: 0, pauseAfterRegistryPushMs: 0 });
  assert.deepEqual(
    s.platform.environments.map((e) => e.name),
    ['dev', 'staging', 'production'],
  );
  assert.equal(s.gitopsRemote.dataDir, '/tmp/forge-settings');
  const set = loadSettings(
    { dataDir: '/tmp/forge-settings' },
    {
      FORGE_GITOPS_AUTHOR: 'Bot <bot@x>',
      FORGE_GITOPS_PUSH_ATTEMPTS: '3',
      FORGE_DEPLOY_LEASE_MS: ' 1000 ',
      FORGE_FAULT_PAUSE_AFTER_PUSH_MS: '60000',
      FORGE_GITOPS_URL: 'ssh://git@example.com/acme/gitops.git',
      FORGE_GITOPS_SSH_KEY_FILE: '/keys/id',
      FORGE_GITOPS_TOKEN: 't0ken',
      FORGE_DEPLOY_NOTE: 'x',
    },
  );
  assert.equal(set.gitopsAuthor, 'Bot <bot@x>');
  assert.equal(set.gitopsPushAttempts, 3);
  assert.equal(set.deployLeaseMs, 1000);
  assert.equal(set.faults.pauseAfterRegistryPushMs, 60_000);
  assert.equal(set.gitopsRemote.url, 'ssh://git@example.com/acme/gitops.git');
  assert.equal(set.gitopsRemote.sshKeyFile, '/keys/id');
  assert.equal(set.gitopsRemote.token, 't0ken');
  assert.equal(set.gitopsRemote.environment?.FORGE_DEPLOY_NOTE, 'x', 'git runs in the environment the settings were read from');
});

test("server: the heap growth bound defaults to 20% with PostgreSQL and to V8's own rule embedded, and is refused out of range (issue 18 item 7)", () => {
  assert.equal(loadSettings({ dataDir: '/tmp/forge-settings' }, {}).heapGrowthPercent, 0);
  const pg = { FORGE_DATABASE_URL: 'postgres://127.0.0.1/test' };
  assert.equal(loadSettings({ dataDir: '/tmp/forge-settings' }, pg).heapGrowthPercent, 20);
  assert.equal(loadSettings({ dataDir: '/tmp/forge-settings' }, { ...pg, FORGE_HEAP_GROWTH_PERCENT: '0' }).heapGrowthPercent, 0);
  assert.equal(loadSettings({ dataDir: '/tmp/forge-settings' }, { FORGE_HEAP_GROWTH_PERCENT: '50' }).heapGrowthPercent, 50);
  for (const bad of ['-1', '401', 'lots', '2.5'])
    assert.throws(
      () => loadSettings({ dataDir: '/tmp/forge-settings' }, { FORGE_HEAP_GROWTH_PERCENT: bad }),
      new RegExp(`FORGE_HEAP_GROWTH_PERCENT is "${bad.replace('.', '\\.')}"; expected an integer from 0 to 400`),
    );
});

test('server: the connection cap stays below the open-file limit, and the request bound is not shorter than the headers bound (issue 19, attack review A)', () => {
  assert.equal(defaultMaxConnections(20_000), 16_000, "the reviewer's limit of 20,000 descriptors");
  assert.equal(defaultMaxConnections(1024), 768, 'at least 256 descriptors are kept');
  assert.equal(defaultMaxConnections(100), 16);
  assert.equal(defaultMaxConnections(undefined), 1000);
  const s = loadSettings({ dataDir: '/tmp/forge-settings' }, {});
  assert.ok(s.maxConnections >= 16);
  assert.equal(s.headersTimeoutMs, 15_000);
  assert.equal(s.requestTimeoutMs, 120_000);
  assert.equal(loadSettings({ dataDir: '/tmp/forge-settings' }, { FORGE_MAX_CONNECTIONS: '300' }).maxConnections, 300);
  assert.throws(
    () => loadSettings({ dataDir: '/tmp/forge-settings' }, { FORGE_HEADERS_TIMEOUT_MS: '30000', FORGE_REQUEST_TIMEOUT_MS: '20000' }),
    /FORGE_REQUEST_TIMEOUT_MS \(20000\) is shorter than FORGE_HEADERS_TIMEOUT_MS \(30000\)/,
  );
});

test('CLI and plugin: bad numbers are refused naming the variable', () => {
  assert.throws(
    () => loadCliSettings({ FORGE_REGISTRY_TIMEOUT_MS: 'slow' }),
    /FORGE_REGISTRY_TIMEOUT_MS is "slow"; expected a positive integer/,
  );
  assert.throws(
    () => loadCmpSettings({ FORGE_CMP_CACHE_MAX_BYTES: '-5' }),
    /FORGE_CMP_CACHE_MAX_BYTES is "-5"; expected a positive integer/,
  );
  const cli = loadCliSettings({
    FORGE_TOKEN: 'tok',
    GITHUB_REF: 'refs/tags/v1',
    DOCKER_CONFIG: '/ci/docker',
    FORGE_TRACKING_REGISTRY: ' r.example/t ',
  });
  assert.equal(cli.token, 'tok');
  assert.deepEqual(cli.pipeline.ci, { GITHUB_SHA: undefined, GITHUB_REF: 'refs/tags/v1' });
  assert.deepEqual(cli.pipeline.publish, { dockerConfigDir: '/ci/docker', insecure: false, trackingRegistry: 'r.example/t' });
});

test('forge deploy --help and a usage error do not print FORGE_TOKEN', async () => {
  const env = { FORGE_TOKEN: 'canary-xyz', FORGE_URL: 'http://127.0.0.1:9' };
  const help = await runCli(['deploy', '--help'], { env });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--token <token>\s+bearer token \(env FORGE_TOKEN\)/);
  assert.doesNotMatch(help.stdout + help.stderr, /canary-xyz/);
  const usage = await runCli(['deploy', 'staging'], { env });
  assert.equal(usage.code, 2);
  assert.doesNotMatch(usage.stdout + usage.stderr, /canary-xyz/);
  for (const args of [
    ['release', 'verify', '--help'],
    ['login', '--help'],
    ['token', 'create', '--help'],
  ]) {
    const r = await runCli(args, {
      env: { ...env, FORGE_SIGNING_PUBLIC_KEY_FILE: '/canary-key.pem', FORGE_OIDC_CLIENT_ID: 'canary-client' },
    });
    assert.doesNotMatch(r.stdout + r.stderr, /canary/, args.join(' '));
  }
});
