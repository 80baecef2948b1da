import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { ForgeError } from '../src/core/errors.js';
import { ociReference } from '../src/core/identity.js';
import { buildReleaseImage, type ReleaseImage } from '../src/core/release-image.js';
import { openReleaseStore, type ReleaseStore } from '../src/registry/index.js';

const run = promisify(execFile);
const REPO = 'acme/mono/auth-service';
const sha = (n: number) => n.toString(16).padStart(40, '0');

function image(commit: string, releaseNumber = 1): ReleaseImage {
  return buildReleaseImage({
    repository: 'acme/mono',
    project: 'auth-service',
    sha: commit,
    releaseNumber,
    aliases: [],
    triggers: [{ type: 'manual' }],
    source: {},
    artifacts: [],
    resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { n: commit } }],
  });
}
const push = (store: ReleaseStore, tag: string, img: ReleaseImage) =>
  store.push(REPO, tag, [img.config, img.metadata, img.resources], img.manifest);

async function tempDir(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'forge-layout-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('default store: an OCI layout under <dataDir>/registry that skopeo reads with the same digest', async (t) => {
  const dataDir = await tempDir(t);
  const store = openReleaseStore({ dataDir });
  const root = resolve(dataDir, 'registry');
  assert.equal(store.registry, `oci:${root}`);
  await store.ping();
  const img = image(sha(1));
  assert.equal(await push(store, sha(1), img), img.manifest.digest);

  const dir = join(root, REPO);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  assert.equal(index.schemaVersion, 2);
  assert.deepEqual(index.manifests, [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: img.manifest.digest,
      size: img.manifest.size,
      artifactType: 'application/vnd.forge.release.v1',
      annotations: { 'org.opencontainers.image.ref.name': sha(1) },
    },
  ]);
  assert.deepEqual(
    (await readdir(join(dir, 'blobs', 'sha256'))).sort(),
    [img.config, img.metadata, img.resources, img.manifest].map((b) => b.digest.slice(7)).sort(),
    'only the blobs, no temp files',
  );

  // The OCI reference of a release in the layout store is itself a skopeo transport reference.
  const ref = ociReference(store.registry, { repository: 'acme/mono', project: 'auth-service', sha: sha(1) });
  assert.equal(ref, `oci:${dir}:${sha(1)}`);
  const raw = (await run('skopeo', ['inspect', '--raw', ref], { encoding: 'buffer' })).stdout;
  assert.ok(raw.equals(img.manifest.bytes), 'skopeo reads the manifest byte for byte');
  const copy = join(dataDir, 'copy');
  await run('skopeo', ['copy', '--insecure-policy', ref, `oci:${copy}:x`]);
  assert.equal(JSON.parse(await readFile(join(copy, 'index.json'), 'utf8')).manifests[0].digest, img.manifest.digest);

  const got = await store.getManifest(REPO, sha(1));
  assert.equal(got.digest, img.manifest.digest);
  assert.equal(got.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.ok((await store.getManifest(REPO, img.manifest.digest)).bytes.equals(img.manifest.bytes));
  assert.ok((await store.getBlob(REPO, img.resources.digest, img.resources.size)).equals(img.resources.bytes));
  await assert.rejects(store.getManifest(REPO, sha(99)), (e: ForgeError) => e.code === 'not_found');
  await assert.rejects(store.getManifest('acme/other/p', sha(1)), (e: ForgeError) => e.code === 'not_found');
  await assert.rejects(store.getBlob(REPO, `sha256:${'0'.repeat(64)}`), (e: ForgeError) => e.code === 'not_found');
});

test('oci-layout:PATH puts the layout at PATH', async (t) => {
  const dir = await tempDir(t);
  const store = openReleaseStore({ registry: `oci-layout:${join(dir, 'elsewhere')}`, dataDir: join(dir, 'data') });
  assert.equal(store.registry, `oci:${join(dir, 'elsewhere')}`);
  await push(store, sha(2), image(sha(2)));
  assert.ok(JSON.parse(await readFile(join(dir, 'elsewhere', REPO, 'index.json'), 'utf8')).manifests.length === 1);
});

test('concurrent pushes of 30 tags into one layout lose no index entry; re-tagging replaces the entry', async (t) => {
  const store = openReleaseStore({ dataDir: await tempDir(t) });
  const images = Array.from({ length: 30 }, (_, i) => image(sha(100 + i), i + 1));
  const digests = await Promise.all(images.map((img, i) => push(store, sha(100 + i), img)));
  assert.deepEqual(
    digests,
    images.map((img) => img.manifest.digest),
  );
  const dir = store.registry.slice('oci:'.length);
  const index = JSON.parse(await readFile(join(dir, REPO, 'index.json'), 'utf8'));
  assert.equal(index.manifests.length, 30);
  for (let i = 0; i < 30; i++) assert.equal((await store.getManifest(REPO, sha(100 + i))).digest, images[i]!.manifest.digest);

  const other = image(sha(100), 99);
  await push(store, sha(100), other);
  const after = JSON.parse(await readFile(join(dir, REPO, 'index.json'), 'utf8'));
  assert.equal(after.manifests.length, 30);
  assert.equal((await store.getManifest(REPO, sha(100))).digest, other.manifest.digest);
});

test('corrupted layout blobs are detected, naming the digest', async (t) => {
  const dataDir = await tempDir(t);
  const store = openReleaseStore({ dataDir });
  const img = image(sha(3));
  await push(store, sha(3), img);
  const blobs = join(dataDir, 'registry', REPO, 'blobs', 'sha256');
  const flip = async (digest: string) => {
    const file = join(blobs, digest.slice(7));
    const bytes = await readFile(file);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0x01;
    await writeFile(file, bytes);
  };
  await flip(img.metadata.digest);
  await assert.rejects(
    store.getBlob(REPO, img.metadata.digest, img.metadata.size),
    (e: ForgeError) =>
      e.code === 'registry_unavailable' && e.message.includes(img.metadata.digest) && e.details?.reason === 'digest_mismatch',
  );
  await flip(img.manifest.digest);
  await assert.rejects(store.getManifest(REPO, sha(3)), (e: ForgeError) => e.message.includes(img.manifest.digest));
  await assert.rejects(store.getManifest(REPO, img.manifest.digest), (e: ForgeError) => e.message.includes(img.manifest.digest));
});

test('a layout that cannot be written gives registry_unavailable', async (t) => {
  const dataDir = await tempDir(t);
  await writeFile(join(dataDir, 'registry'), 'a file where the layout directory should be');
  const store = openReleaseStore({ dataDir });
  await assert.rejects(
    push(store, sha(4), image(sha(4))),
    (e: ForgeError) => e.code === 'registry_unavailable' && e.message.includes(join(dataDir, 'registry')),
  );
  await assert.rejects(store.ping(), (e: ForgeError) => e.code === 'registry_unavailable');
});
