/**
 * The plugin against a registry that sends more than it should (issue 19 item 4): a resources
 * layer declared larger than the extraction limits allow is refused before it is downloaded,
 * and one that streams past its declared size is cut off while it streams. forge-cmp runs as
 * Argo CD runs it; the registry is test/support/hostile-registry.ts.
 */

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeBlob } from '../src/core/digest.js';
import { buildReleaseImage, MEDIA_TYPES } from '../src/core/release-image.js';
import { argoEnv, pointerFor, runPlugin, writePointer } from './support/cmp.js';
import { tempDir } from './support/forge.js';
import { type Hostile, startHostile, stream } from './support/hostile-registry.js';

const SHA = 'd'.repeat(40);
const REPO = 'acme/mono/auth-service';
const MiB = 1024 * 1024;
const SLACK = 16 * MiB;
const work = tempDir('forge-cmp-bounds-');
let reg: Hostile | undefined;
after(async () => {
  await reg?.close();
  rmSync(work, { recursive: true, force: true });
});

const image = buildReleaseImage({
  repository: 'acme/mono',
  project: 'auth-service',
  sha: SHA,
  releaseNumber: 1,
  aliases: [],
  triggers: [{ type: 'manual' }],
  source: {},
  artifacts: [],
  resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } }],
});

/** The release's manifest with the resources layer's declared size replaced by `size`. */
function manifestDeclaring(size: number) {
  const doc = JSON.parse(image.manifest.bytes.toString('utf8'));
  for (const layer of doc.layers)
    if (layer.mediaType === MEDIA_TYPES.resources || layer.mediaType === MEDIA_TYPES.resourcesGzip) layer.size = size;
  return makeBlob(MEDIA_TYPES.manifest, Buffer.from(JSON.stringify(doc)));
}

let runs = 0;
async function generate(manifest: ReturnType<typeof manifestDeclaring>, env: Record<string, string> = {}) {
  const { dir, sourcePath } = writePointer(join(work, `run-${++runs}`), pointerFor({ release: SHA, digest: manifest.digest }));
  return runPlugin(
    ['generate'],
    dir,
    argoEnv(sourcePath, { FORGE_REGISTRY: reg!.host, FORGE_CMP_CACHE_DIR: join(work, `cache-${runs}`), ...env }),
  );
}

const manifests = new Map<string, Buffer>();
const resourcesPath = `/v2/${REPO}/blobs/${image.resources.digest}`;
/** How the registry sends the resources layer: 400 MiB with an honest Content-Length, or chunked without end. */
let resourcesMode: 'honest' | 'chunked' = 'honest';

test('an honest 400 MiB resources layer is refused by its declared size against the 64 MiB limit, before any byte of it is read', async () => {
  reg = await startHostile((req, res, h) => {
    const url = req.url!;
    const m = manifests.get(url.split('/manifests/')[1] ?? '');
    if (m) return res.writeHead(200, { 'content-type': MEDIA_TYPES.manifest }).end(m);
    if (url.endsWith(image.metadata.digest)) return res.writeHead(200).end(image.metadata.bytes);
    if (url === resourcesPath)
      return resourcesMode === 'honest'
        ? stream(res, h, url, 400 * MiB, { 'content-length': String(400 * MiB) })
        : stream(res, h, url, 1024 * MiB);
    res.writeHead(404).end();
  });
  const huge = manifestDeclaring(400 * MiB);
  manifests.set(huge.digest, huge.bytes);
  const out = await generate(huge);
  assert.equal(out.code, 1, out.stderr);
  assert.equal(out.stdout, '');
  assert.match(
    out.stderr,
    /resources layer sha256:[0-9a-f]{64} is 419430400 bytes, more than the \d+ that files within FORGE_CMP_MAX_TOTAL_BYTES \(67108864\) and FORGE_CMP_MAX_FILES \(10000\) can take; not downloaded/,
  );
  assert.ok(!reg.hits.some((h) => h.path === resourcesPath), 'the layer was not requested');

  // The limit follows the settings: with a smaller FORGE_CMP_MAX_TOTAL_BYTES, a smaller layer is refused the same way.
  const modest = manifestDeclaring(3 * MiB);
  manifests.set(modest.digest, modest.bytes);
  const small = await generate(modest, { FORGE_CMP_MAX_TOTAL_BYTES: String(MiB), FORGE_CMP_MAX_FILES: '10' });
  assert.equal(small.code, 1);
  assert.match(small.stderr, /is 3145728 bytes, more than the \d+ that files within FORGE_CMP_MAX_TOTAL_BYTES \(1048576\)/);
  assert.ok(!reg.hits.some((h) => h.path === resourcesPath));
});

test('a resources layer that streams past its declared size (chunked and endless, or announcing 400 MiB) is cut off at that size', async () => {
  const honestSize = manifestDeclaring(image.resources.size);
  manifests.set(honestSize.digest, honestSize.bytes);
  for (const mode of ['chunked', 'honest'] as const) {
    resourcesMode = mode;
    const out = await generate(honestSize);
    assert.equal(out.code, 1, out.stderr);
    assert.equal(out.stdout, '');
    const size = mode === 'chunked' ? `more than ${image.resources.size}` : '419430400';
    assert.match(
      out.stderr,
      new RegExp(`blob ${image.resources.digest} is ${size} bytes, expected ${image.resources.size}; refused while reading`),
    );
    await reg!.settled();
    const sent = reg!.sent.get(resourcesPath)!;
    assert.ok(sent <= image.resources.size + SLACK, `${mode}: the registry got to send ${sent} bytes`);
  }
});
