import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadCliSettings } from '../src/cli/settings.js';
import { parseArtifacts } from '../src/pipeline/artifact-config.js';
import { packDirectory } from '../src/pipeline/artifact-producers.js';
import { buildArtifact, TRACKING_MEDIA_TYPE } from '../src/pipeline/artifacts.js';
import { openReleaseStore } from '../src/registry/index.js';
import { startRegistry } from './support/registry.js';

const SHA = 'c0ffee'.padEnd(40, '0');
/** How to publish, as the CLI parses it from these variables (src/cli/settings.ts); producer commands get this process's environment. */
const publishing = (env: Record<string, string>) => ({ publish: loadCliSettings(env).pipeline.publish, environment: process.env });

function digestOf(b: Buffer) {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

/** A one-layer OCI image layout, as buildah or skopeo would leave it. */
function writeLayout(dir: string, content = 'hello'): string {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const d = digestOf(b);
    writeFileSync(join(dir, 'blobs', 'sha256', d.slice(7)), b);
    return { digest: d, size: b.length };
  };
  const layer = put(gzipSync(Buffer.from(content)));
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }),
  );
  const m = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m }] }),
  );
  return m.digest;
}

/** Counts the requests that reach the registry (a real one behind it), so a test can see that nothing was pushed. */
async function countingProxy(target: string) {
  const methods: string[] = [];
  const server = createServer((req, res) => {
    methods.push(`${req.method} ${req.url}`);
    const up = request(
      { host: target.split(':')[0], port: Number(target.split(':')[1]), method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, methods, close: () => new Promise((r) => server.close(r)) };
}

function artifact(
  host: string,
  producer: unknown,
  publishers: Record<string, unknown> = { registry: { oci: { repository: `${host}/acme/api` } } },
) {
  return parseArtifacts({ api: { type: 'container', producer, publishers } })[0];
}

test('oci-layout producer + oci publisher: pushed to a real registry, with a tracking image; a re-run pushes nothing', async (t) => {
  const registry = await startRegistry();
  const proxy = await countingProxy(registry.host);
  const dir = mkdtempSync(join(tmpdir(), 'forge-art-'));
  t.after(async () => {
    await proxy.close();
    await registry.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const imageDigest = writeLayout(join(dir, 'build/image'));
  const a = artifact(proxy.host, { 'oci-layout': { path: 'build/image' } });
  const ctx = { projectDir: dir, project: 'auth', sha: SHA, mtime: 0, repository: 'acme/mono', ...publishing({ HOME: dir }) };
  const record = await buildArtifact(a, ctx);
  const uri = `${proxy.host}/acme/api:sha-${SHA}@${imageDigest}`;
  assert.equal(record.primary_published_uri, uri);
  assert.equal(record.outputs.uri, uri);
  assert.equal(record.outputs.digest, imageDigest);
  assert.deepEqual(record.outputs.publishers.registry, {
    uri,
    registry: proxy.host,
    repository: 'acme/api',
    tag: `sha-${SHA}`,
    digest: imageDigest,
  });
  assert.equal(record.tracking_oci_uri, `${proxy.host}/acme/mono/auth/api:sha-${SHA}`);

  // What the registry holds: the image under its tag, the tracking image with one metadata layer.
  const store = openReleaseStore({ registry: registry.host, dataDir: '' });
  assert.equal((await store.getManifest('acme/api', `sha-${SHA}`)).digest, imageDigest);
  const tracking = await store.getManifest('acme/mono/auth/api', `sha-${SHA}`);
  assert.equal(tracking.digest, record.tracking_oci_digest);
  const doc = JSON.parse(tracking.bytes.toString());
  assert.equal(doc.layers.length, 1);
  assert.equal(doc.layers[0].mediaType, TRACKING_MEDIA_TYPE);
  const meta = JSON.parse((await store.getBlob('acme/mono/auth/api', doc.layers[0].digest)).toString());
  assert.deepEqual(meta.producer, { kind: 'oci-layout', path: 'build/image' });
  assert.equal(meta.outputs.publishers.registry.uri, uri);
  // skopeo reads what was pushed, byte for byte.
  const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/acme/api:sha-${SHA}`]);
  assert.equal(digestOf(raw), imageDigest);

  proxy.methods.length = 0;
  const again = await buildArtifact(a, ctx);
  assert.deepEqual(again, record);
  assert.deepEqual(
    proxy.methods.filter((m) => !m.startsWith('GET') && !m.startsWith('HEAD')),
    [],
    'nothing is uploaded twice',
  );
});

test('archive producer: a reproducible tar.gz pushed as an OCI artifact; size and digest reach @artifact', async (t) => {
  const registry = await startRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'forge-art-'));
  t.after(async () => {
    await registry.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'dist/sub'), { recursive: true });
  writeFileSync(join(dir, 'dist/a.txt'), 'A');
  writeFileSync(join(dir, 'dist/sub/b.txt'), 'B');
  const packed = await packDirectory(join(dir, 'dist'), 1767323045);
  assert.deepEqual(await packDirectory(join(dir, 'dist'), 1767323045), packed, 'packing is reproducible');
  const list = execFileSync('tar', ['-tzvf', '-'], { input: packed, encoding: 'utf8' });
  assert.match(list, /sub\/b\.txt/);
  const a = parseArtifacts({
    site: {
      type: 'archive',
      producer: { archive: { path: 'dist' } },
      publishers: { r: { oci: { repository: `${registry.host}/acme/site`, tag: 'v1' } } },
    },
  })[0];
  const record = await buildArtifact(a, {
    projectDir: dir,
    project: 'web',
    sha: SHA,
    mtime: 1767323045,
    repository: 'acme/mono',
    ...publishing({ HOME: dir }),
  });
  assert.equal(record.outputs.size, packed.length);
  assert.equal(record.outputs.media_type, 'application/vnd.oci.image.layer.v1.tar+gzip');
  const store = openReleaseStore({ registry: registry.host, dataDir: '' });
  const manifest = JSON.parse((await store.getManifest('acme/site', 'v1')).bytes.toString());
  assert.equal(manifest.artifactType, 'application/vnd.forge.artifact.archive.v1');
  // digest names the published manifest (the primary location); size and media type the packed archive.
  assert.equal(record.outputs.digest, record.outputs.publishers.r.digest);
  assert.equal(manifest.layers[0].digest, digestOf(packed));
  assert.deepEqual(await store.getBlob('acme/site', digestOf(packed)), packed);
  assert.equal(record.outputs.uri, `${registry.host}/acme/site:v1@${record.outputs.publishers.r.digest}`);
});

test('command producer: runs in the project directory; a file is published; a failing command fails with its output', async (t) => {
  const registry = await startRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'forge-art-'));
  t.after(async () => {
    await registry.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const ctx = { projectDir: dir, project: 'cli', sha: SHA, mtime: 0, repository: 'acme/mono', ...publishing({ HOME: dir }) };
  const ok = parseArtifacts({
    bin: {
      type: 'binary',
      producer: { command: { run: 'mkdir -p out && printf "$FORGE_ARTIFACT@$FORGE_COMMIT_SHA" > out/tool', output: 'out/tool' } },
      publishers: { r: { oci: { repository: `${registry.host}/acme/tool` } } },
    },
  })[0];
  const record = await buildArtifact(ok, ctx);
  const bytes = Buffer.from(`bin@${SHA}`);
  assert.equal(record.outputs.size, bytes.length);
  const store = openReleaseStore({ registry: registry.host, dataDir: '' });
  assert.deepEqual(await store.getBlob('acme/tool', digestOf(bytes)), bytes);

  const layoutCmd = parseArtifacts({
    img: {
      type: 'container',
      producer: { command: { run: 'true', output: 'img' } },
      publishers: { r: { oci: { repository: `${registry.host}/acme/img` } } },
    },
  })[0];
  const layoutDigest = writeLayout(join(dir, 'img'), 'from a command');
  assert.equal((await buildArtifact(layoutCmd, ctx)).outputs.digest, layoutDigest, 'a command may leave an OCI layout');

  const bad = parseArtifacts({
    bin: { type: 'binary', producer: { command: { run: 'echo compiling; echo "boom: no compiler" >&2; exit 3', output: 'x' } } },
  })[0];
  await assert.rejects(buildArtifact(bad, ctx), /artifact "bin": command "echo compiling.*" failed \(exit code 3\):\nboom: no compiler/);
});

test('external publishers are recorded as given; a tracking image only with an oci publisher or FORGE_TRACKING_REGISTRY', async (t) => {
  const registry = await startRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'forge-art-'));
  t.after(async () => {
    await registry.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const a = parseArtifacts({
    api: { type: 'container', publishers: { mirror: { external: { uri: 'ghcr.io/acme/api:1.2.3', digest: `sha256:${'1'.repeat(64)}` } } } },
  })[0];
  const ctx = { projectDir: dir, project: 'auth', sha: SHA, mtime: 0, repository: 'acme/mono', ...publishing({ HOME: dir }) };
  const plain = await buildArtifact(a, ctx);
  assert.deepEqual(plain, {
    name: 'api',
    type: 'container',
    primary_published_uri: 'ghcr.io/acme/api:1.2.3',
    outputs: {
      uri: 'ghcr.io/acme/api:1.2.3',
      digest: `sha256:${'1'.repeat(64)}`,
      publishers: { mirror: { uri: 'ghcr.io/acme/api:1.2.3', digest: `sha256:${'1'.repeat(64)}` } },
    },
  });
  const tracked = await buildArtifact(a, { ...ctx, ...publishing({ HOME: dir, FORGE_TRACKING_REGISTRY: `${registry.host}/tracking` }) });
  assert.equal(tracked.tracking_oci_uri, `${registry.host}/tracking/acme/mono/auth/api:sha-${SHA}`);
  const store = openReleaseStore({ registry: `${registry.host}/tracking`, dataDir: '' });
  assert.equal((await store.getManifest('acme/mono/auth/api', `sha-${SHA}`)).digest, tracked.tracking_oci_digest);
});

test('registry credentials come from DOCKER_CONFIG auths', async (t) => {
  const registry = await startRegistry({ auth: 'basic' });
  const dir = mkdtempSync(join(tmpdir(), 'forge-art-'));
  t.after(async () => {
    await registry.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'p/dist'), { recursive: true });
  writeFileSync(join(dir, 'p/dist/f'), 'x');
  const a = parseArtifacts({
    site: {
      type: 'archive',
      producer: { archive: { path: 'dist' } },
      publishers: { r: { oci: { repository: `${registry.host}/acme/site` } } },
    },
  })[0];
  const ctx = {
    projectDir: join(dir, 'p'),
    project: 'web',
    sha: SHA,
    mtime: 0,
    repository: 'acme/mono',
    ...publishing({ HOME: dir, DOCKER_CONFIG: join(dir, 'docker') }),
  };
  await assert.rejects(buildArtifact(a, ctx), /requires credentials|rejected the credentials/);
  mkdirSync(join(dir, 'docker'));
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  writeFileSync(join(dir, 'docker/config.json'), JSON.stringify({ auths: { [`http://${registry.host}`]: { auth } } }));
  const record = await buildArtifact(a, ctx);
  assert.match(record.tracking_oci_digest!, /^sha256:/);
});
