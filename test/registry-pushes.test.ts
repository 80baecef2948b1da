/**
 * Registration at registry speed (issue 18 item "Registration at registry speed"): blobs the
 * registry is known to hold are not sent again, a blob collected since is uploaded again when
 * the manifest PUT says it is missing, connections are reused, and a blob held by another
 * repository is mounted instead of uploaded. Against Debian's docker-registry, through a proxy
 * that counts requests and connections.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { buildReleaseImage, type ReleaseImage } from '../src/core/release-image.js';
import { KnownBlobs } from '../src/registry/distribution.js';
import { openReleaseStore } from '../src/registry/index.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

/** An HTTP proxy in front of the registry that counts requests by `METHOD kind` and the connections made to it. */
async function countingProxy(target: string) {
  const seen = new Map<string, number>();
  let connections = 0;
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const kind = /\/blobs\/uploads\//.test(req.url!)
      ? 'uploads'
      : /\/blobs\//.test(req.url!)
        ? 'blobs'
        : /\/manifests\//.test(req.url!)
          ? 'manifests'
          : 'other';
    const key = `${req.method} ${kind}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const [hostname, port] = target.split(':');
    const up = http.request({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    count: (key: string) => seen.get(key) ?? 0,
    connections: () => connections,
    reset() {
      seen.clear();
      connections = 0;
    },
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function image(repository: string, n: number, sharedLayer = true): ReleaseImage {
  return buildReleaseImage({
    repository: 'acme/mono',
    project: repository,
    sha: n.toString(16).padStart(40, '0'),
    releaseNumber: n,
    aliases: [{ alias: String(n), alias_type: 'numeric' }],
    triggers: [{ type: 'manual' }],
    source: { committed_at: '2026-03-04T05:06:07Z' },
    artifacts: [],
    resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { n: sharedLayer ? 'same' : String(n) } }],
  });
}

let registry: TestRegistry;
let proxy: Awaited<ReturnType<typeof countingProxy>>;
before(async () => {
  registry = await startRegistry();
  proxy = await countingProxy(registry.host);
});
after(async () => {
  await proxy.close();
  await registry.destroy();
});

const blobsOf = (img: ReleaseImage) => [img.config, img.metadata, img.resources];

test('a blob the registry is known to hold (the empty config, a shared layer) is not uploaded or asked for again', async () => {
  const store = openReleaseStore({ registry: proxy.host, dataDir: '/nonexistent' });
  const first = image('known', 1);
  await store.push('acme/mono/known', 'a', blobsOf(first), first.manifest);
  proxy.reset();
  const second = image('known', 2);
  await store.push('acme/mono/known', 'b', blobsOf(second), second.manifest);
  // only the new metadata blob goes: no HEAD, no upload of the config or the shared resources layer
  assert.equal(proxy.count('HEAD blobs'), 0);
  assert.equal(proxy.count('POST uploads'), 1);
  assert.equal(proxy.count('PUT uploads'), 1);
  assert.equal(proxy.count('PUT manifests'), 1);
  // read back by digest
  assert.equal(proxy.count('GET manifests'), 1);
  assert.deepEqual((await store.getManifest('acme/mono/known', 'b')).digest, second.manifest.digest);
});

test('a blob known held but collected since is uploaded again when the manifest PUT says it is missing', async () => {
  const store = openReleaseStore({ registry: proxy.host, dataDir: '/nonexistent' });
  const first = image('collected', 1);
  await store.push('acme/mono/collected', 'a', blobsOf(first), first.manifest);
  // what a garbage collection or an operator does: the shared layer is gone from the repository
  const gone = await fetch(`http://${registry.host}/v2/acme/mono/collected/blobs/${first.resources.digest}`, { method: 'DELETE' });
  assert.equal(gone.status, 202);
  assert.equal(
    (await fetch(`http://${registry.host}/v2/acme/mono/collected/blobs/${first.resources.digest}`, { method: 'HEAD' })).status,
    404,
  );
  proxy.reset();
  const second = image('collected', 2);
  await store.push('acme/mono/collected', 'b', blobsOf(second), second.manifest);
  // the first PUT was refused (MANIFEST_BLOB_UNKNOWN), the blobs went again, the second PUT held
  assert.equal(proxy.count('PUT manifests'), 2);
  const layer = await store.getBlob('acme/mono/collected', second.resources.digest, second.resources.size);
  assert.deepEqual(layer, second.resources.bytes);
});

test('connections to the registry are reused: 20 pushes one after another use a handful of connections', async () => {
  const store = openReleaseStore({ registry: proxy.host, dataDir: '/nonexistent' });
  proxy.reset();
  for (let n = 1; n <= 20; n++) {
    const img = image('reused', n, false);
    await store.push('acme/mono/reused', String(n), blobsOf(img), img.manifest);
  }
  const requests = [...proxy.seen.values()].reduce((a, b) => a + b, 0);
  assert.ok(requests >= 20 * 5, `${requests} requests`);
  assert.ok(proxy.connections() <= 4, `${proxy.connections()} connections for ${requests} requests`);
});

test('a blob another repository is known to hold is mounted (one request), not uploaded', async () => {
  const store = openReleaseStore({ registry: proxy.host, dataDir: '/nonexistent' });
  const first = image('mount-a', 1);
  await store.push('acme/mono/mount-a', 'a', blobsOf(first), first.manifest);
  proxy.reset();
  await store.pushBlobs('acme/mono/mount-b', [first.resources]);
  assert.equal(proxy.count('POST uploads'), 1);
  assert.equal(proxy.count('PUT uploads'), 0);
  const layer = await store.getBlob('acme/mono/mount-b', first.resources.digest, first.resources.size);
  assert.deepEqual(layer, first.resources.bytes);
});

test('the known set is bounded: the least recently used pair goes first, and a repository can be forgotten', () => {
  const known = new KnownBlobs(2);
  known.add('r1', 'sha256:a');
  known.add('r1', 'sha256:b');
  assert.equal(known.has('r1', 'sha256:a'), true); // a is now the most recent
  known.add('r2', 'sha256:a');
  assert.equal(known.size, 2);
  assert.equal(known.has('r1', 'sha256:b'), false);
  assert.equal(known.holder('sha256:a', 'r2'), 'r1');
  known.forgetRepository('r1');
  assert.equal(known.has('r1', 'sha256:a'), false);
  assert.equal(known.holder('sha256:a', 'r2'), undefined);
  assert.equal(known.has('r2', 'sha256:a'), true);
});
