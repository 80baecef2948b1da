/**
 * What the plugin accepts from a registry it does not trust: images crafted here (our writer
 * would never make them) are pushed to an OCI layout and rendered by forge-cmp as Argo CD runs it.
 */

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { makeBlob } from '../src/core/digest.js';
import { EMPTY_CONFIG, LAYER_TYPE_ANNOTATION, MEDIA_TYPES } from '../src/core/release-image.js';
import { writeTar } from '../src/core/tar.js';
import { openReleaseStore } from '../src/registry/index.js';
import { argoEnv, pointerFor, runPlugin, writePointer } from './support/cmp.js';
import { tempDir } from './support/forge.js';
import { craftTar, type EntryHeader } from './support/tar.js';

const SHA = 'e'.repeat(40);
const work = tempDir('forge-cmp-extract-');
const layout = join(work, 'layout');
after(() => rmSync(work, { recursive: true, force: true }));

let runs = 0;

const files = (entries: Record<string, string>) =>
  writeTar(Object.entries(entries).map(([path, text]) => ({ path, bytes: Buffer.from(text), mtime: 0 })));

/** Pushes a release image around `layer` (its metadata may lie about the layer) and runs generate on a pointer to it. */
async function render(
  layer: Buffer,
  o: { mediaType?: string; metadataResourcesDigest?: string; pointerRelease?: string; env?: Record<string, string> } = {},
) {
  const resources = makeBlob(o.mediaType ?? MEDIA_TYPES.resources, layer);
  const metadata = makeBlob(
    MEDIA_TYPES.metadata,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 1,
        identity: { repository: 'acme/mono', project: 'auth-service', commit_sha: SHA, canonical_id: `acme/mono/auth-service/${SHA}` },
        release_number: 9,
        aliases: [],
        triggers: [],
        source: { sha: SHA },
        artifacts: [],
        resources: {
          digest: o.metadataResourcesDigest ?? resources.digest,
          size: resources.size,
          media_type: resources.mediaType,
          count: 0,
          kinds: {},
          objects: [],
        },
      }),
    ),
  );
  const d = (b: typeof resources, type?: string) => ({
    mediaType: b.mediaType,
    digest: b.digest,
    size: b.size,
    ...(type ? { annotations: { [LAYER_TYPE_ANNOTATION]: type } } : {}),
  });
  const manifest = makeBlob(
    MEDIA_TYPES.manifest,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.manifest,
        artifactType: MEDIA_TYPES.release,
        config: d(EMPTY_CONFIG),
        layers: [d(metadata, 'metadata'), d(resources, 'resources')],
        annotations: { 'org.opencontainers.image.revision': SHA },
      }),
    ),
  );
  const store = openReleaseStore({ registry: `oci-layout:${layout}`, dataDir: work });
  await store.push('acme/mono/auth-service', SHA, [EMPTY_CONFIG, metadata, resources], manifest);
  const { dir, sourcePath } = writePointer(
    join(work, `run-${++runs}`),
    pointerFor({ release: o.pointerRelease ?? SHA, digest: manifest.digest }),
  );
  const out = await runPlugin(
    ['generate'],
    dir,
    argoEnv(sourcePath, {
      FORGE_REGISTRY: `oci-layout:${layout}`,
      FORGE_CMP_CACHE_DIR: join(work, `cache-${runs}`),
      ...o.env,
    }),
  );
  return { ...out, resources, manifest };
}

function assertRefused(out: { code: number | null; stdout: string; stderr: string }, pattern: RegExp) {
  assert.equal(out.code, 1, out.stderr);
  assert.match(
    out.stderr,
    /^forge-cmp: generate failed: oci:\S+\/acme\/mono\/auth-service@sha256:[0-9a-f]{64}: /,
    'the error names the image',
  );
  assert.equal(out.stdout, '');
  assert.match(out.stderr, pattern);
}

const LAYER_FILES = {
  'secret/multi.yaml': '---\n---\nmetadata:\n  name: s\nkind: Secret\napiVersion: v1\n---\n',
  'configmap/b.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n',
  'configmap/empty.yaml': '',
  'deployment.apps/a.yaml': 'kind: Deployment\napiVersion: apps/v1\nmetadata:\n  name: a\n',
  'configmap/a.yaml': '# only a comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n',
  'configmap/null.yaml': '~\n',
};
// Every document is printed again with sorted keys (issue 19 item 3: a file an older server
// wrote is not passed on byte for byte, its plain `yes` would reach Argo CD as a boolean).
const EXPECTED =
  '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n' +
  '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n';

test('documents come out sorted by (kind, name), empty ones dropped, each starting with ---', async () => {
  const out = await render(files(LAYER_FILES));
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, EXPECTED);
});

test('the gzip variant of the resources layer is read the same way', async () => {
  const out = await render(gzipSync(files(LAYER_FILES)), { mediaType: MEDIA_TYPES.resourcesGzip });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, EXPECTED);
});

test('a document without apiVersion or kind is refused, naming the file in the layer', async () => {
  const noKind = await render(files({ 'configmap/x.yaml': 'apiVersion: v1\nmetadata:\n  name: x\n' }));
  assertRefused(noKind, /resources layer sha256:[0-9a-f]{64}: configmap\/x\.yaml: kind is missing; expected a non-empty string/);
  const noVersion = await render(files({ 'pod/p.yaml': 'kind: Pod\nmetadata:\n  name: p\n' }));
  assertRefused(noVersion, /pod\/p\.yaml: apiVersion is missing/);
  const list = await render(files({ 'pod/l.yaml': '- a\n- b\n' }));
  assertRefused(list, /pod\/l\.yaml: expected a Kubernetes object \(a mapping\), got a list/);
});

test('links, devices and path escapes in the resources layer are refused', async () => {
  const cases: [EntryHeader, RegExp][] = [
    [
      { name: 'configmap/link.yaml', type: 'symlink', linkname: '/etc/passwd' },
      /"configmap\/link\.yaml" is a symbolic link; only regular files are allowed/,
    ],
    [{ name: 'configmap/hard.yaml', type: 'link', linkname: 'configmap/a.yaml' }, /"configmap\/hard\.yaml" is a hard link/],
    [{ name: 'dev/null.yaml', type: 'character-device', devmajor: 1, devminor: 3 }, /"dev\/null\.yaml" is a character device/],
    [{ name: '../escape.yaml' }, /unsafe path "\.\.\/escape\.yaml"/],
    [{ name: '/etc/cron.d/evil.yaml' }, /unsafe path "\/etc\/cron\.d\/evil\.yaml"/],
  ];
  for (const [header, pattern] of cases) {
    const tar = await craftTar([
      { header: { name: 'configmap/a.yaml' }, body: LAYER_FILES['configmap/a.yaml'] },
      { header, body: header.type ? undefined : LAYER_FILES['configmap/b.yaml'] },
    ]);
    assertRefused(await render(tar), pattern);
  }
});

test('extraction limits: file count, per-file and total size (FORGE_CMP_MAX_*)', async () => {
  const layer = files(LAYER_FILES);
  assertRefused(await render(layer, { env: { FORGE_CMP_MAX_FILES: '5' } }), /tar archive holds more than 5 files/);
  assertRefused(
    await render(layer, { env: { FORGE_CMP_MAX_FILE_BYTES: '60' } }),
    /"configmap\/a\.yaml" is 68 bytes, more than the 60 allowed per file/,
  );
  assertRefused(await render(layer, { env: { FORGE_CMP_MAX_TOTAL_BYTES: '200' } }), /tar archive files exceed 200 bytes in total/);
  const bad = await render(layer, { env: { FORGE_CMP_MAX_FILES: 'many' } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /FORGE_CMP_MAX_FILES is "many"; expected a positive integer/);
  const within = await render(layer, {
    env: { FORGE_CMP_MAX_FILES: '6', FORGE_CMP_MAX_FILE_BYTES: '68', FORGE_CMP_MAX_TOTAL_BYTES: '400' },
  });
  assert.equal(within.code, 0, within.stderr);
});

test("the metadata layer must name the manifest's resources layer", async () => {
  const other = makeBlob(
    MEDIA_TYPES.resources,
    files({ 'configmap/other.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n' }),
  );
  const out = await render(files(LAYER_FILES), { metadataResourcesDigest: other.digest });
  assertRefused(out, new RegExp(`the metadata layer names resources layer ${other.digest}, but the manifest has ${out.resources.digest}`));
});

test('a digest that holds another release than spec.release is refused, also when that digest is cached', async () => {
  const pattern = new RegExp(`is the release of commit ${SHA}, but the pointer's spec.release is ${'f'.repeat(40)}`);
  assertRefused(await render(files(LAYER_FILES), { pointerRelease: 'f'.repeat(40) }), pattern);
  const cache = join(work, 'shared-cache');
  const good = await render(files(LAYER_FILES), { env: { FORGE_CMP_CACHE_DIR: cache } });
  assert.equal(good.code, 0, good.stderr);
  assertRefused(await render(files(LAYER_FILES), { pointerRelease: 'f'.repeat(40), env: { FORGE_CMP_CACHE_DIR: cache } }), pattern);
});

test('documents printed again quote YAML 1.1 look-alikes; aliases are refused, never expanded', async () => {
  const levels = Array.from({ length: 9 }, (_, i) => `  l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(', ')}]`).join('\n');
  const bomb = `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  l0: &l0 lol\n${levels}\n`;
  assertRefused(await render(files({ 'configmap/bomb.yaml': bomb })), /configmap\/bomb\.yaml: not valid YAML: Alias/);
  const out = await render(
    files({
      'configmap/flags.yaml':
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags}\ndata: {a: 'on', b: 'yes', c: '2024-01-01', d: 1_000}\n",
    }),
  );
  assert.equal(out.code, 0, out.stderr);
  assert.equal(
    out.stdout,
    '---\napiVersion: v1\ndata:\n  a: "on"\n  b: "yes"\n  c: "2024-01-01"\n  d: "1_000"\nkind: ConfigMap\nmetadata:\n  name: flags\n',
  );
});
