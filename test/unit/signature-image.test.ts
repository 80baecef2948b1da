/** Unit tests of src/core/signature-image.ts: the OCI manifest that carries a release's signature (DESIGN.md §5). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256Digest } from '../../src/core/digest.js';
import { EMPTY_CONFIG } from '../../src/core/release-image.js';
import { BUNDLE_MEDIA_TYPE, buildSignatureImage, parseSignatureManifest, signatureTag } from '../../src/core/signature-image.js';

const SUBJECT = { digest: `sha256:${'ab'.repeat(32)}`, size: 1234 };

test('the signature is tagged sha256-<hex>.sig after the manifest it signs', () => {
  assert.equal(signatureTag(SUBJECT.digest), `sha256-${'ab'.repeat(32)}.sig`);
});

test('the manifest: bundle artifact type, the empty config, one bundle layer, the release as subject', () => {
  const bundle = { mediaType: BUNDLE_MEDIA_TYPE, content: 'x' };
  const { manifest, blobs } = buildSignatureImage(bundle, SUBJECT);
  const m = JSON.parse(manifest.bytes.toString('utf8'));
  const bundleBytes = Buffer.from(JSON.stringify(bundle));
  assert.deepEqual(m, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: BUNDLE_MEDIA_TYPE,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: 2 },
    layers: [{ mediaType: BUNDLE_MEDIA_TYPE, digest: sha256Digest(bundleBytes), size: bundleBytes.length }],
    subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: SUBJECT.digest, size: SUBJECT.size },
  });
  assert.equal(manifest.digest, sha256Digest(manifest.bytes));
  assert.deepEqual(
    blobs.map((b) => b.digest),
    [EMPTY_CONFIG.digest, sha256Digest(bundleBytes)],
  );
  assert.deepEqual(buildSignatureImage(bundle, SUBJECT).manifest.bytes, manifest.bytes, 'the same input gives the same bytes');
});

test('parsing finds the bundle layer of a manifest that signs the expected release', () => {
  const { manifest, blobs } = buildSignatureImage({ any: 'bundle' }, SUBJECT);
  assert.deepEqual(parseSignatureManifest(manifest.bytes, SUBJECT.digest), { digest: blobs[1].digest, size: blobs[1].size });
});

test('parsing refuses what is not a signature of the expected release, saying why', () => {
  const { manifest } = buildSignatureImage({}, SUBJECT);
  const m = JSON.parse(manifest.bytes.toString('utf8'));
  const bytes = (o: unknown) => Buffer.from(JSON.stringify(o));
  assert.throws(() => parseSignatureManifest(Buffer.from('{'), SUBJECT.digest), /the signature manifest is not JSON/);
  assert.throws(
    () => parseSignatureManifest(bytes({ ...m, artifactType: 'x' }), SUBJECT.digest),
    /has artifactType "x": expected application\/vnd\.dev\.sigstore/,
  );
  const other = `sha256:${'cd'.repeat(32)}`;
  assert.throws(() => parseSignatureManifest(manifest.bytes, other), /subject is sha256:abab.*: expected the release manifest sha256:cdcd/);
  assert.throws(
    () => parseSignatureManifest(bytes({ ...m, layers: [] }), SUBJECT.digest),
    /has no application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json layer/,
  );
  assert.throws(() => parseSignatureManifest(bytes({ ...m, layers: [{ ...m.layers[0], size: '12' }] }), SUBJECT.digest), /has no .* layer/);
});
