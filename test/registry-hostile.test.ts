/**
 * What Forge takes from a registry that does not play by the rules (issue 19 item 4), through
 * the one client the server, the pipeline, the plugin and doctor share
 * (src/registry/distribution.ts): every read is bounded while it streams, a blob is never read
 * past its declared size (with or without a Content-Length), content is checked against its
 * digest, and credentials go only to the registry's own origin or a token realm on its host
 * over https (or one FORGE_REGISTRY_TOKEN_REALM_HOSTS lists). And a 401 with no credentials
 * configured is said as such (issue 19 item 7).
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { after, describe, test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { realmRefusal } from '../src/registry/credentials.js';
import { openReleaseStore } from '../src/registry/index.js';
import { registrySettingsFromEnv } from '../src/registry/settings.js';
import { type Hostile, startHostile, stream } from './support/hostile-registry.js';

const REPO = 'acme/mono/auth-service';
const MiB = 1024 * 1024;
/** What the kernel's socket buffers may hold beyond what the client read before it hung up. */
const SLACK = 16 * MiB;
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const ANY_DIGEST = `sha256:${'1'.repeat(64)}`;

function refused(pattern: RegExp) {
  return (e: unknown) => e instanceof ForgeError && e.code === 'registry_unavailable' && pattern.test(e.message);
}

const servers: Hostile[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function hostile(...args: Parameters<typeof startHostile>) {
  const s = await startHostile(...args);
  servers.push(s);
  return s;
}

describe('every read is bounded while it streams', () => {
  const blob = Buffer.from('a'.repeat(1000));
  let reg: Hostile;
  const routes: Record<string, (res: ServerResponse) => void> = {};
  test('an endless chunked manifest is cut off at the manifest limit (4 MiB), not read to its end', async () => {
    reg = await hostile((req, res, h) => {
      const route = routes[req.url!.split('/').pop()!];
      if (route) return route(res);
      if (req.url!.includes('/manifests/')) return stream(res, h, req.url!, 256 * MiB);
      res.writeHead(404).end();
    });
    const store = openReleaseStore({ registry: reg.host, dataDir: tmpdir() });
    await assert.rejects(store.getManifest(REPO, ANY_DIGEST), refused(/the manifest is larger than 4194304 bytes .*refused while reading/));
    await reg.settled();
    const sent = reg.sent.get(`/v2/${REPO}/manifests/${ANY_DIGEST}`)!;
    assert.ok(sent <= 4 * MiB + SLACK, `the registry got to send ${sent} bytes`);
  });

  test('a body that stalls is a timeout, said as such and not asked again; a refused answer whose body stalls holds no connection open', async () => {
    let requests = 0;
    const slow = await hostile((req, res) => {
      requests++;
      // headers and a first byte, then nothing
      if (req.url!.includes('/manifests/')) {
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '100' });
        res.write('{');
        return;
      }
      res.writeHead(404, { 'content-length': '10' });
      res.write('n');
    });
    const store = openReleaseStore({ registry: slow.host, dataDir: tmpdir(), timeoutMs: 500 });
    const started = Date.now();
    await assert.rejects(store.getManifest(REPO, ANY_DIGEST), refused(/reading GET manifest .* failed: no answer within 0.5 s/));
    assert.equal(requests, 1, 'a timeout is not retried');
    assert.ok(Date.now() - started < 2000);
    // the 404's body never comes: the answer is still known at once, and its connection closed
    const before = Date.now();
    await assert.rejects(store.getBlob(REPO, ANY_DIGEST), (e: unknown) => e instanceof ForgeError && e.code === 'not_found');
    assert.ok(Date.now() - before < 400, 'the 404 is reported without waiting for its body');
    const closed = await Promise.race([slow.settled().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 300))]);
    assert.equal(closed, 'closed', 'no connection is left open on a stalled body');
  });

  test('a blob is never read past its declared size: endless without Content-Length, honest 400 MiB with one', async () => {
    const store = openReleaseStore({ registry: reg.host, dataDir: tmpdir() });
    const endless = `sha256:${'2'.repeat(64)}`;
    const honest = `sha256:${'3'.repeat(64)}`;
    const path = (d: string) => `/v2/${REPO}/blobs/${d}`;
    routes[endless] = (res) => stream(res, reg, path(endless), 256 * MiB);
    routes[honest] = (res) => stream(res, reg, path(honest), 400 * MiB, { 'content-length': String(400 * MiB) });

    await assert.rejects(
      store.getBlob(REPO, endless, MiB),
      refused(/blob sha256:2{64} is more than 1048576 bytes, expected 1048576; refused while reading/),
    );
    await assert.rejects(store.getBlob(REPO, honest, MiB), refused(/blob sha256:3{64} is 419430400 bytes, expected 1048576/));
    await reg.settled();
    for (const d of [endless, honest]) assert.ok(reg.sent.get(path(d))! <= MiB + SLACK, `${d}: ${reg.sent.get(path(d))} bytes sent`);
  });

  test('a blob declared larger than the reader takes (128 MiB) is not even requested; a wrong content is named by digest', async () => {
    const store = openReleaseStore({ registry: reg.host, dataDir: tmpdir() });
    const big = `sha256:${'4'.repeat(64)}`;
    routes[big] = (res) => stream(res, reg, big, 400 * MiB);
    await assert.rejects(
      store.getBlob(REPO, big, 400 * MiB),
      refused(/declared as 419430400 bytes, more than the 134217728 this reader takes; not downloaded/),
    );
    assert.ok(!reg.hits.some((h) => h.path.endsWith(big)), 'no request for it');

    const right = digestOf(blob);
    routes[right] = (res) => res.writeHead(200, { 'content-length': String(blob.length) }).end(Buffer.from('b'.repeat(1000)));
    await assert.rejects(store.getBlob(REPO, right, blob.length), refused(/content does not match digest sha256:[0-9a-f]{64}/));
    routes[right] = (res) => res.writeHead(200).end(blob); // right bytes, chunked
    assert.ok((await store.getBlob(REPO, right, blob.length)).equals(blob));
  });
});

describe('credentials go only to the registry', () => {
  const USER = 'forge-ci';
  const PASSWORD = 'pw-canary-0123456789';
  const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const blob = Buffer.from('layer bytes');

  test('a redirect to another origin (a storage service) gets no Authorization; one on the registry keeps it', async () => {
    const storage = await hostile((_req, res) => res.writeHead(200).end(blob), '127.0.0.2');
    const reg = await hostile((req, res) => {
      if (req.headers.authorization !== basic) return res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
      if (req.url!.startsWith('/v2/') && req.url!.includes('/blobs/'))
        return res.writeHead(307, { location: `${storage.url}/bucket/${digestOf(blob)}` }).end();
      if (req.url === '/moved') return res.writeHead(200).end();
      if (req.url === '/v2/') return res.writeHead(302, { location: '/moved' }).end();
      res.writeHead(404).end();
    });
    const store = openReleaseStore({ registry: reg.host, dataDir: tmpdir(), username: USER, password: PASSWORD });
    assert.ok((await store.getBlob(REPO, digestOf(blob), blob.length)).equals(blob));
    assert.equal(storage.hits.length, 1);
    assert.equal(storage.hits[0]!.authorization, undefined, 'the storage service got no credentials');
    await store.ping();
    assert.equal(reg.hits.find((h) => h.path === '/moved')?.authorization, basic, 'a redirect on the registry keeps them');
  });

  /** A registry on 127.0.0.1 whose bearer challenge names `realm`; it accepts the token "good". */
  async function bearerRegistry(realm: () => string) {
    return hostile((req, res) => {
      if (req.headers.authorization === 'Bearer good') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm()}",service="reg"` }).end();
    });
  }
  /** A token service that hands "good" to the right credentials, and "anonymous" to none. */
  async function tokenService(address: string) {
    return hostile((req, res) => {
      const token = req.headers.authorization === basic ? 'good' : req.headers.authorization ? undefined : 'anonymous';
      if (!token) return res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
    }, address);
  }

  test('a token realm on another host never receives the credentials, unless FORGE_REGISTRY_TOKEN_REALM_HOSTS lists it', async () => {
    const tokens = await tokenService('127.0.0.2');
    const reg = await bearerRegistry(() => `${tokens.url}/token`);
    const store = openReleaseStore({ registry: reg.host, dataDir: tmpdir(), username: USER, password: PASSWORD });
    await assert.rejects(
      store.getManifest(REPO, 'latest'),
      (e: ForgeError) =>
        refused(
          /names token realm http:\/\/127\.0\.0\.2:\d+\/token; credentials are not sent there: it is not on 127\.0\.0\.1; list 127\.0\.0\.2 in FORGE_REGISTRY_TOKEN_REALM_HOSTS/,
        )(e) && !e.message.includes(PASSWORD),
    );
    assert.equal(tokens.hits.length, 0, 'the foreign realm was not contacted');

    const allowed = openReleaseStore({
      registry: reg.host,
      dataDir: tmpdir(),
      username: USER,
      password: PASSWORD,
      tokenRealmHosts: registrySettingsFromEnv({ FORGE_REGISTRY_TOKEN_REALM_HOSTS: ' 127.0.0.2 ,other.example' }).tokenRealmHosts,
    });
    await allowed.getManifest(REPO, 'latest');
    assert.equal(tokens.hits.at(-1)!.authorization, basic, 'listed: it gets them');

    // Without credentials nothing secret is at stake: an anonymous token may come from anywhere.
    const anonymous = openReleaseStore({ registry: reg.host, dataDir: tmpdir() });
    await assert.rejects(
      anonymous.getManifest(REPO, 'latest'),
      refused(/requires credentials for GET manifest .*, and none are configured \(set FORGE_REGISTRY_USERNAME/),
    );
    assert.equal(tokens.hits.at(-1)!.authorization, undefined);
  });

  test('the realm rule: same host name over https; plain http only on loopback; listed hosts over https', () => {
    const url = (u: string) => new URL(u);
    assert.equal(realmRefusal('registry.example.com', url('https://registry.example.com/token')), undefined);
    assert.equal(realmRefusal('registry.example.com:5000', url('https://registry.example.com:5001/token')), undefined, 'any port');
    assert.match(realmRefusal('registry.example.com', url('http://registry.example.com/token'))!, /it is http, not https/);
    assert.match(realmRefusal('registry-1.docker.io', url('https://auth.docker.io/token'))!, /not on registry-1\.docker\.io/);
    assert.equal(realmRefusal('registry-1.docker.io', url('https://auth.docker.io/token'), ['auth.docker.io']), undefined);
    assert.match(realmRefusal('registry-1.docker.io', url('http://auth.docker.io/token'), ['auth.docker.io'])!, /not https/);
    assert.match(realmRefusal('registry.example.com', url('https://registry.example.com.evil.test/token'))!, /not on/);
    assert.equal(realmRefusal('127.0.0.1:5000', url('http://127.0.0.1:5001/token')), undefined, 'loopback: http allowed');
    assert.equal(realmRefusal('localhost:5000', url('http://LOCALHOST:5001/token')), undefined);
    assert.match(realmRefusal('registry.example.com', url('ftp://registry.example.com/token'))!, /it is ftp/);
    assert.throws(
      () => registrySettingsFromEnv({ FORGE_REGISTRY_TOKEN_REALM_HOSTS: 'https://auth.docker.io' }),
      (e: ForgeError) =>
        e.code === 'validation_error' &&
        /FORGE_REGISTRY_TOKEN_REALM_HOSTS: "https:\/\/auth\.docker\.io" is not a host name/.test(e.message),
    );
  });

  test('no credentials configured is said as such, never as "rejected the credentials"', async () => {
    // Bearer: the registry refuses the anonymous token of its own token service.
    let tokens: Hostile | undefined;
    const reg = await bearerRegistry(() => `${tokens!.url}/token`);
    tokens = await tokenService('127.0.0.1');
    const none = openReleaseStore({ registry: reg.host, dataDir: tmpdir() });
    await assert.rejects(
      none.getManifest(REPO, 'latest'),
      (e: ForgeError) => refused(/requires credentials for GET manifest .*and none are configured/)(e) && !/rejected/.test(e.message),
    );
    const wrong = openReleaseStore({ registry: reg.host, dataDir: tmpdir(), username: USER, password: 'not-it' });
    await assert.rejects(wrong.getManifest(REPO, 'latest'), refused(/token service .* rejected the credentials \(HTTP 401\)/));
    // Basic.
    const basicReg = await hostile((_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end());
    await assert.rejects(
      openReleaseStore({ registry: basicReg.host, dataDir: tmpdir() }).ping(),
      refused(/requires credentials \(set FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD\)/),
    );
  });
});
