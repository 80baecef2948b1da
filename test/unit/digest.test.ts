/** Unit tests of src/core/digest.ts: OCI content addressing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DIGEST_PATTERN, isDigest, makeBlob, sha256Digest } from '../../src/core/digest.js';

const EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

test('sha256Digest is sha256: and the lower-case hex of the bytes (known vectors)', () => {
  assert.equal(sha256Digest(Buffer.alloc(0)), EMPTY);
  assert.equal(sha256Digest(Buffer.from('abc')), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('a blob carries its media type, digest, size in bytes and the bytes', () => {
  const bytes = Buffer.from('{}');
  assert.deepEqual(makeBlob('application/vnd.oci.empty.v1+json', bytes), {
    mediaType: 'application/vnd.oci.empty.v1+json',
    digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    size: 2,
    bytes,
  });
  assert.equal(makeBlob('x', Buffer.from('é')).size, 2, 'size counts bytes, not characters');
});

test('isDigest accepts only sha256 with 64 lower-case hex characters', () => {
  assert.ok(isDigest(EMPTY));
  assert.ok(DIGEST_PATTERN.test(EMPTY));
  for (const bad of [
    EMPTY.toUpperCase(),
    EMPTY.slice(0, -1),
    `${EMPTY}0`,
    EMPTY.replace('sha256', 'sha512'),
    EMPTY.slice(7),
    42,
    null,
    undefined,
  ]) {
    assert.equal(isDigest(bad), false, String(bad));
  }
});
