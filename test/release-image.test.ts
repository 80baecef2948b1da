import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { parse } from 'yaml';
import type { ForgeError } from '../src/core/errors.js';
import {
  buildReleaseImage,
  EMPTY_CONFIG,
  MEDIA_TYPES,
  parseReleaseManifest,
  parseReleaseMetadata,
  type ReleaseImageInput,
  readResourcesLayer,
  resourcePath,
  resourcesDigest,
} from '../src/core/release-image.js';
import { craftTar, type EntryHeader } from './support/tar.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

function input(overrides: Partial<ReleaseImageInput> = {}): ReleaseImageInput {
  return {
    repository: 'acme/mono',
    project: 'auth-service',
    sha: SHA,
    releaseNumber: 7,
    aliases: [
      { alias: 'main-7', alias_type: 'branch' },
      { alias: 'v1.2.3', alias_type: 'tag' },
      { alias: '7', alias_type: 'numeric' },
    ],
    triggers: [{ type: 'branch_push', branch: 'main' }],
    source: {
      author: 'Alice <alice@example.com>',
      message: 'feat: things',
      committed_at: '2026-01-02T03:04:05Z',
      url: 'https://git.example.com/acme/mono',
    },
    artifacts: [
      {
        name: 'api-server',
        type: 'container',
        primary_published_uri: 'registry.example.com/acme/auth:sha-x',
        tracking_oci_digest: `sha256:${'b'.repeat(64)}`,
      },
    ],
    resources: [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'auth-config' }, data: { level: 'debug' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'auth', namespace: 'prod' }, spec: { replicas: 2 } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'auth', namespace: 'prod' }, spec: { ports: [{ port: 80 }] } },
    ],
    ...overrides,
  };
}

const json = (b: Buffer) => JSON.parse(b.toString('utf8'));

/** Reads a tar with tar-stream (an implementation independent of ours): headers and contents. */
async function untar(bytes: Buffer): Promise<{ header: Header; body: string }[]> {
  const out: { header: Header; body: string }[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.push({ header, body: Buffer.concat(chunks).toString('utf8') });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([bytes]).pipe(ex);
  await done;
  return out;
}

test('manifest: OCI image manifest with the exact media types, annotations and layer order of DESIGN.md §5', () => {
  const image = buildReleaseImage(input());
  const m = json(image.manifest.bytes);
  assert.equal(image.manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(m.schemaVersion, 2);
  assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(m.artifactType, 'application/vnd.forge.release.v1');
  assert.deepEqual(m.config, {
    mediaType: 'application/vnd.oci.empty.v1+json',
    digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    size: 2,
  });
  assert.equal(image.config.bytes.toString(), '{}');
  assert.equal(image.config.digest, m.config.digest);
  assert.deepEqual(m.layers, [
    {
      mediaType: 'application/vnd.forge.release.metadata.v1+json',
      digest: image.metadata.digest,
      size: image.metadata.size,
      annotations: { 'org.catalyst-forge.layer.type': 'metadata' },
    },
    {
      mediaType: 'application/vnd.forge.release.resources.v1+tar',
      digest: image.resources.digest,
      size: image.resources.size,
      annotations: { 'org.catalyst-forge.layer.type': 'resources' },
    },
  ]);
  assert.deepEqual(m.annotations, {
    'org.opencontainers.image.revision': SHA,
    'org.opencontainers.image.created': '2026-01-02T03:04:05Z',
    'org.opencontainers.image.source': 'https://git.example.com/acme/mono',
  });
  for (const blob of [image.manifest, image.config, image.metadata, image.resources]) {
    assert.equal(blob.digest, `sha256:${createHash('sha256').update(blob.bytes).digest('hex')}`);
    assert.equal(blob.size, blob.bytes.length);
  }
});

test('manifest: created is omitted without a commit time, source without a URL', () => {
  const image = buildReleaseImage(input({ source: { author: null, message: null, committed_at: null, url: null } }));
  assert.deepEqual(json(image.manifest.bytes).annotations, { 'org.opencontainers.image.revision': SHA });
});

test('resources layer: sorted regular files, one YAML document each, mode 0644, uid/gid 0, empty names, mtime = commit time', async () => {
  const image = buildReleaseImage(input());
  const entries = await untar(image.resources.bytes);
  assert.deepEqual(
    entries.map((e) => e.header.name),
    ['configmap/auth-config.yaml', 'prod/deployment.apps/auth.yaml', 'prod/service/auth.yaml'],
  );
  for (const { header } of entries) {
    assert.equal(header.type, 'file');
    assert.equal(header.mode, 0o644);
    assert.equal(header.uid, 0);
    assert.equal(header.gid, 0);
    assert.equal(header.uname, '');
    assert.equal(header.gname, '');
    assert.equal(header.mtime!.getTime(), Date.parse('2026-01-02T03:04:05Z'));
  }
  assert.deepEqual(parse(entries[1]!.body), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'auth', namespace: 'prod' },
    spec: { replicas: 2 },
  });
  assert.equal(entries[0]!.body.split('\n---').length, 1, 'one document per file');

  const noTime = buildReleaseImage(input({ source: {} }));
  for (const { header } of await untar(noTime.resources.bytes)) assert.equal(header.mtime!.getTime(), 0);
});

test('resource paths: [<namespace>/]<kind>[.<group>]/<name>.yaml, lower-case', () => {
  assert.equal(resourcePath({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }), 'deployment.apps/x.yaml');
  assert.equal(resourcePath({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), 'configmap/x.yaml');
  assert.equal(
    resourcePath({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'Web', namespace: 'Edge' } }),
    'edge/ingress.networking.k8s.io/web.yaml',
  );
  assert.throws(
    () => resourcePath({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '../../etc' } }),
    (e: ForgeError) => e.code === 'validation_error' && /metadata\.name/.test(e.message),
  );
  assert.throws(
    () => resourcePath({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x/y' } }),
    (e: ForgeError) => e.code === 'validation_error' && /metadata\.namespace/.test(e.message),
  );
});

test('two objects with the same file path are refused', () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'same' } };
  assert.throws(
    () => buildReleaseImage(input({ resources: [cm, { ...cm, data: { a: '1' } }] })),
    (e: ForgeError) => e.code === 'validation_error' && e.message.includes('configmap/same.yaml'),
  );
});

test('long paths (a 253-character name) survive through a pax header', async () => {
  const name = `n${'x'.repeat(252)}`;
  const obj = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name, namespace: 'some-namespace' } };
  const image = buildReleaseImage(input({ resources: [obj] }));
  const expected = `some-namespace/customresourcedefinition.apiextensions.k8s.io/${name}.yaml`;
  assert.deepEqual(
    (await untar(image.resources.bytes)).map((e) => e.header.name),
    [expected],
  );
  assert.deepEqual(
    readResourcesLayer(image.resources.bytes, image.resources.mediaType).map((f) => f.path),
    [expected],
  );
});

test('metadata layer: schema version, identity, number, aliases, triggers, source, artifacts, resource summary and the resources digest', () => {
  const image = buildReleaseImage(input());
  const md = json(image.metadata.bytes);
  assert.deepEqual(md, image.metadataDoc);
  assert.equal(md.schemaVersion, 1);
  assert.deepEqual(md.identity, {
    repository: 'acme/mono',
    project: 'auth-service',
    commit_sha: SHA,
    canonical_id: `acme/mono/auth-service/${SHA}`,
  });
  assert.equal(md.release_number, 7);
  assert.deepEqual(
    md.aliases.map((a: { alias: string }) => a.alias),
    ['7', 'v1.2.3', 'main-7'],
  );
  assert.deepEqual(md.triggers, [{ type: 'branch_push', branch: 'main', tag: null }]);
  assert.deepEqual(md.source, {
    sha: SHA,
    author: 'Alice <alice@example.com>',
    message: 'feat: things',
    committed_at: '2026-01-02T03:04:05Z',
    url: 'https://git.example.com/acme/mono',
  });
  assert.equal(md.artifacts[0].name, 'api-server');
  assert.equal(md.resources.digest, image.resources.digest);
  assert.equal(md.resources.size, image.resources.size);
  assert.equal(md.resources.count, 3);
  assert.deepEqual(md.resources.kinds, { ConfigMap: 1, Deployment: 1, Service: 1 });
  assert.deepEqual(
    md.resources.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`),
    ['ConfigMap/auth-config', 'Deployment/auth', 'Service/auth'],
  );
  assert.equal(parseReleaseMetadata(image.metadata.bytes).resources.digest, image.resources.digest);
  assert.equal(resourcesDigest(input().resources, '2026-01-02T03:04:05Z'), image.resources.digest);
});

test('reproducible: the same input gives the same bytes; key order and list order of the input do not matter', () => {
  const a = buildReleaseImage(input());
  const b = buildReleaseImage(input());
  assert.equal(a.manifest.digest, b.manifest.digest);
  assert.ok(a.manifest.bytes.equals(b.manifest.bytes));

  const reordered = input();
  reordered.resources = [...reordered.resources].reverse().map((r) => Object.fromEntries(Object.entries(r).reverse()));
  reordered.aliases = [...reordered.aliases].reverse();
  reordered.source = Object.fromEntries(Object.entries(reordered.source).reverse());
  assert.equal(buildReleaseImage(reordered).manifest.digest, a.manifest.digest);
});

test('a different release number gives a different manifest digest but the same resources layer', () => {
  const a = buildReleaseImage(input());
  const b = buildReleaseImage(input({ releaseNumber: 8 }));
  assert.notEqual(a.manifest.digest, b.manifest.digest);
  assert.equal(a.resources.digest, b.resources.digest);
  const c = buildReleaseImage(input({ resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } }] }));
  assert.notEqual(c.resources.digest, a.resources.digest);
});

test('parseReleaseManifest selects layers by media type, not position, and accepts the gzip variant', () => {
  const image = buildReleaseImage(input());
  const m = json(image.manifest.bytes);
  const parsed = parseReleaseManifest(image.manifest.bytes);
  assert.equal(parsed.metadata.digest, image.metadata.digest);
  assert.equal(parsed.resources.digest, image.resources.digest);
  assert.equal(parsed.annotations['org.opencontainers.image.revision'], SHA);

  const swapped = {
    ...m,
    layers: [{ ...m.layers[1], mediaType: MEDIA_TYPES.resourcesGzip, digest: `sha256:${'c'.repeat(64)}` }, m.layers[0]],
  };
  const p2 = parseReleaseManifest(Buffer.from(JSON.stringify(swapped)));
  assert.equal(p2.metadata.digest, image.metadata.digest);
  assert.equal(p2.resources.mediaType, MEDIA_TYPES.resourcesGzip);
  assert.equal(p2.resources.digest, `sha256:${'c'.repeat(64)}`);
});

test('parseReleaseManifest refuses what is not a Forge release', () => {
  const m = json(buildReleaseImage(input()).manifest.bytes);
  const bad = (doc: unknown, pattern: RegExp) =>
    assert.throws(
      () => parseReleaseManifest(Buffer.from(JSON.stringify(doc))),
      (e: ForgeError) => e.code === 'validation_error' && pattern.test(e.message),
    );
  bad({ ...m, artifactType: 'application/vnd.example' }, /artifactType/);
  bad({ ...m, layers: [m.layers[1]] }, /metadata layer/);
  bad({ ...m, layers: [m.layers[0], m.layers[1], m.layers[1]] }, /resources layer.*found 2/);
  bad({ ...m, layers: [m.layers[0], { ...m.layers[1], digest: 'sha256:nothex' }] }, /digest/);
  assert.throws(() => parseReleaseManifest(Buffer.from('not json')), /not JSON/);
  assert.equal(EMPTY_CONFIG.size, 2);
});

test('readResourcesLayer reads the plain and the gzip variant', () => {
  const image = buildReleaseImage(input());
  const plain = readResourcesLayer(image.resources.bytes, MEDIA_TYPES.resources);
  const gz = readResourcesLayer(gzipSync(image.resources.bytes), MEDIA_TYPES.resourcesGzip);
  assert.deepEqual(gz, plain);
  assert.deepEqual(
    plain.map((f) => f.path),
    ['configmap/auth-config.yaml', 'prod/deployment.apps/auth.yaml', 'prod/service/auth.yaml'],
  );
  assert.deepEqual(parse(plain[0]!.yaml), input().resources[0]);
  assert.throws(() => readResourcesLayer(image.resources.bytes, 'application/x-tar'), /media type/);
});

test('readResourcesLayer enforces file count, per-file and total size', () => {
  const image = buildReleaseImage(input());
  const limits = { maxFiles: 10, maxTotalBytes: 1 << 20, maxFileBytes: 1 << 20 };
  const tooLarge = (l: typeof limits, pattern: RegExp, bytes = image.resources.bytes, mediaType: string = MEDIA_TYPES.resources) =>
    assert.throws(
      () => readResourcesLayer(bytes, mediaType, l),
      (e: ForgeError) => e.code === 'payload_too_large' && pattern.test(e.message),
    );
  tooLarge({ ...limits, maxFiles: 2 }, /more than 2 files/);
  tooLarge({ ...limits, maxFileBytes: 20 }, /per file/);
  tooLarge({ ...limits, maxTotalBytes: 100 }, /in total/);
  const bomb = gzipSync(Buffer.alloc(50 << 20));
  tooLarge({ ...limits, maxFiles: 1, maxTotalBytes: 1024 }, /decompresses/, bomb, MEDIA_TYPES.resourcesGzip);
  assert.equal(readResourcesLayer(image.resources.bytes, MEDIA_TYPES.resources, { ...limits, maxFiles: 3 }).length, 3);
});

test('readResourcesLayer refuses path escapes, links, devices and directories', async () => {
  const refused = async (header: EntryHeader, pattern: RegExp) => {
    const tar = await craftTar([
      { header: { name: 'configmap/ok.yaml' }, body: 'a: 1\n' },
      { header, body: header.type === 'file' || !header.type ? 'b: 2\n' : undefined },
    ]);
    assert.throws(
      () => readResourcesLayer(tar, MEDIA_TYPES.resources),
      (e: ForgeError) => e.code === 'validation_error' && pattern.test(e.message),
    );
  };
  await refused({ name: '../escape.yaml' }, /unsafe path/);
  await refused({ name: 'configmap/../../escape.yaml' }, /unsafe path/);
  await refused({ name: '/etc/passwd' }, /unsafe path/);
  await refused({ name: 'link.yaml', type: 'symlink', linkname: '/etc/passwd' }, /symbolic link/);
  await refused({ name: 'hard.yaml', type: 'link', linkname: 'configmap/ok.yaml' }, /hard link/);
  await refused({ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }, /character device/);
  await refused({ name: 'configmap', type: 'directory' }, /directory/);
  await refused({ name: 'fifo', type: 'fifo' }, /FIFO/);
  await refused({ name: 'configmap/ok.yaml' }, /twice/);
  const ok = await craftTar([{ header: { name: './configmap/ok.yaml' }, body: 'a: 1\n' }]);
  assert.deepEqual(readResourcesLayer(ok, MEDIA_TYPES.resources), [{ path: 'configmap/ok.yaml', yaml: 'a: 1\n' }]);
  const truncated = (await craftTar([{ header: { name: 'a.yaml' }, body: 'x'.repeat(2000) }])).subarray(0, 1024);
  assert.throws(() => readResourcesLayer(truncated, MEDIA_TYPES.resources), /truncated/);
});
