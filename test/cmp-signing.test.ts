/** FORGE_SIGNING_PUBLIC_KEY_FILE: the plugin renders only releases signed with that key, and a cached release only counts if it was verified with it. */

import assert from 'node:assert/strict';
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildReleaseImage } from '../src/core/release-image.js';
import { openReleaseStore } from '../src/registry/index.js';
import { loadOrCreateSigningKey, signAndPushRelease } from '../src/signing/index.js';
import { argoEnv, pointerFor, runPlugin, writePointer } from './support/cmp.js';
import { tempDir } from './support/forge.js';

const work = tempDir('forge-cmp-signing-');
after(() => rmSync(work, { recursive: true, force: true }));
const layout = join(work, 'layout');
const store = openReleaseStore({ registry: `oci-layout:${layout}`, dataDir: work });
const REPO = 'acme/mono/auth-service';
const keyA = loadOrCreateSigningKey(join(work, 'a', 'signing-key.pem'));
loadOrCreateSigningKey(join(work, 'b', 'signing-key.pem')); // another key: its public half is pubB
const pubA = join(work, 'a', 'signing-key.pem.pub');
const pubB = join(work, 'b', 'signing-key.pem.pub');

async function release(c: string, signWith?: typeof keyA) {
  const sha = c.repeat(40);
  const image = buildReleaseImage({
    repository: 'acme/mono',
    project: 'auth-service',
    sha,
    releaseNumber: 1,
    aliases: [],
    triggers: [{ type: 'manual' }],
    source: {},
    artifacts: [],
    resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${c}` } }],
  });
  await store.push(REPO, sha, [image.config, image.metadata, image.resources], image.manifest);
  if (signWith)
    await signAndPushRelease(store, signWith, REPO, `acme/mono/auth-service/${sha}`, {
      digest: image.manifest.digest,
      size: image.manifest.size,
    });
  return writePointer(join(work, `gitops-${c}`), pointerFor({ release: sha, digest: image.manifest.digest }));
}

const env = (sourcePath: string, cache: string, key?: string) =>
  argoEnv(sourcePath, {
    FORGE_REGISTRY: `oci-layout:${layout}`,
    FORGE_CMP_CACHE_DIR: join(work, cache),
    ...(key ? { FORGE_SIGNING_PUBLIC_KEY_FILE: key } : {}),
  });

test('a release signed with the configured key renders; unsigned or signed with another key is refused', async () => {
  const signed = await release('a', keyA);
  const ok = await runPlugin(['generate'], signed.dir, env(signed.sourcePath, 'c1', pubA));
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /name: cm-a/);
  assert.match(ok.stderr, /\(signature verified\)/);

  const other = await runPlugin(['generate'], signed.dir, env(signed.sourcePath, 'c2', pubB));
  assert.equal(other.code, 1);
  assert.equal(other.stdout, '');
  assert.match(other.stderr, /refused by the signature check .*not by the configured public key/);

  const unsigned = await release('b');
  const refused = await runPlugin(['generate'], unsigned.dir, env(unsigned.sourcePath, 'c3', pubA));
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, /refused by the signature check .*is not signed/);

  const noKeyFile = await runPlugin(['generate'], signed.dir, env(signed.sourcePath, 'c4', join(work, 'missing.pub')));
  assert.equal(noKeyFile.code, 1);
  assert.match(noKeyFile.stderr, /FORGE_SIGNING_PUBLIC_KEY_FILE names ".*missing\.pub", which cannot be read/);
});

test('the cache serves a release only if it was verified with the key configured now', async () => {
  const unsigned = await release('c');
  const plain = await runPlugin(['generate'], unsigned.dir, env(unsigned.sourcePath, 'shared'));
  assert.equal(plain.code, 0, plain.stderr);
  const nowKeyed = await runPlugin(['generate'], unsigned.dir, env(unsigned.sourcePath, 'shared', pubA));
  assert.equal(nowKeyed.code, 1, 'cached without a check, so it is checked now');
  assert.match(nowKeyed.stderr, /is not signed/);

  const signed = await release('d', keyA);
  assert.equal((await runPlugin(['generate'], signed.dir, env(signed.sourcePath, 'shared', pubA))).code, 0);
  const otherKey = await runPlugin(['generate'], signed.dir, env(signed.sourcePath, 'shared', pubB));
  assert.equal(otherKey.code, 1, 'verified with key A does not count for key B');
  renameSync(layout, `${layout}-away`);
  try {
    const warm = await runPlugin(['generate'], signed.dir, env(signed.sourcePath, 'shared', pubA));
    assert.equal(warm.code, 0, warm.stderr);
    assert.match(warm.stderr, /\(signature verified\) from cache/);
  } finally {
    renameSync(`${layout}-away`, layout);
  }
});
