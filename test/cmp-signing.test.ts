/**
 * FORGE_SIGNING_PUBLIC_KEY_FILE: the plugin renders only releases signed by a key of that file
 * (one key, or the installation's published set), and a cached release only counts if it was
 * verified with it; without the setting it renders and says it verified nothing (issue 13 item 6).
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildReleaseImage } from '../src/core/release-image.js';
import { buildSignatureImage, signatureTag } from '../src/core/signature-image.js';
import { openReleaseStore } from '../src/registry/index.js';
import { loadOrCreateSigningKey, signAndPushRelease, signDigest } from '../src/signing/index.js';
import { argoEnv, pointerFor, runPlugin, writePointer } from './support/cmp.js';
import { REPO_ROOT, tempDir } from './support/forge.js';

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

test('no key configured renders and says on stderr that it verified nothing; the shipped key file (no key yet) refuses', async () => {
  const signed = await release('e', keyA);
  const open = await runPlugin(['generate'], signed.dir, env(signed.sourcePath, 'c5'));
  assert.equal(open.code, 0, open.stderr);
  assert.match(open.stdout, /name: cm-e/);
  assert.match(open.stderr, /signature NOT verified: FORGE_SIGNING_PUBLIC_KEY_FILE is not set, nothing was checked/);

  const shipped = join(REPO_ROOT, 'deploy/argocd/signing-keys.pem');
  const placeholder = await runPlugin(['generate'], signed.dir, env(signed.sourcePath, 'c6', shipped));
  assert.equal(placeholder.code, 1, 'a key file without a key is not "nothing to check"');
  assert.equal(placeholder.stdout, '');
  assert.match(placeholder.stderr, /holds no public key: put the installation's published key set there \(forge signing-key list -o pem\)/);
});

test('the published key set (several keys) verifies releases of each key; a signature over another release is refused', async () => {
  const keyB = loadOrCreateSigningKey(join(work, 'b', 'signing-key.pem'));
  const set = join(work, 'set.pem');
  writeFileSync(set, `# key a\n${readFileSync(pubA, 'utf8')}# key b\n${readFileSync(pubB, 'utf8')}`);
  const byA = await release('f', keyA);
  const byB = await release('1', keyB);
  for (const [i, r] of [byA, byB].entries()) {
    const ok = await runPlugin(['generate'], r.dir, env(r.sourcePath, `c7-${i}`, set));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /\(signature verified\)/);
  }
  const byC = await release('2', loadOrCreateSigningKey(join(work, 'c', 'signing-key.pem')));
  const unknown = await runPlugin(['generate'], byC.dir, env(byC.sourcePath, 'c8', set));
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /not by any of the 2 configured public keys/);

  // Mis-signed: release 3 carries a valid signature by key A, but over release f's manifest.
  const target = await release('3');
  const fDigest = pointerDigest(byA);
  const bundle = await signDigest(keyA, `${REPO}/${'f'.repeat(40)}`, fDigest);
  const iDigest = pointerDigest(target);
  const manifest = await store.getManifest(REPO, iDigest);
  const image = buildSignatureImage(bundle, { digest: iDigest, size: manifest.bytes.length });
  await store.push(REPO, signatureTag(iDigest), image.blobs, image.manifest);
  const misSigned = await runPlugin(['generate'], target.dir, env(target.sourcePath, 'c9', set));
  assert.equal(misSigned.code, 1);
  assert.equal(misSigned.stdout, '');
  assert.match(misSigned.stderr, new RegExp(`the signature is for ${fDigest}, not for the release manifest ${iDigest}`));
});

function pointerDigest(p: { dir: string }): string {
  return /digest: (sha256:[0-9a-f]{64})/.exec(readFileSync(join(p.dir, 'release.yaml'), 'utf8'))![1];
}

test('a forged cache entry is never served, let alone as "(signature verified)": it is refused or pulled again', async () => {
  const good = await release('9', keyA);
  const unsigned = await release('8');
  const cacheName = 'forged';
  const cacheDir = join(work, cacheName);
  const first = await runPlugin(['generate'], good.dir, env(good.sourcePath, cacheName, pubA));
  assert.equal(first.code, 0, first.stderr);
  const digest = pointerDigest(good);

  // 1. The attack of issue 19: an entry in the old format, rendered output claiming a check
  //    with key A, for a stream the registry never held. It is not read, and is removed.
  const evil = '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: planted\n';
  const legacy = join(cacheDir, `${digest.replace(':', '-')}.json`);
  writeFileSync(
    legacy,
    JSON.stringify({
      version: 1,
      manifestDigest: digest,
      streamDigest: `sha256:${createHash('sha256').update(evil).digest('hex')}`,
      repository: 'acme/mono',
      project: 'auth-service',
      sha: '9'.repeat(40),
      releaseNumber: 1,
      stream: evil,
      verifiedWith: `sha256:${createHash('sha256').update(readFileSync(pubA, 'utf8')).digest('hex')}`,
    }),
  );
  // 2. The manifest's file replaced by another manifest (of an unsigned release).
  const manifestFile = join(cacheDir, digest.replace(':', '-'));
  writeFileSync(manifestFile, readFileSync(join(layout, REPO, 'blobs', 'sha256', pointerDigest(unsigned).slice(7))));
  // 3. The signature's tag made to name another release's signature manifest.
  const tagFiles = readdirSync(cacheDir).filter((n) => n.startsWith('tag-'));
  assert.equal(tagFiles.length, 1, 'one signature tag cached');
  const other = await release('7', keyA);
  const otherSig = await store.getManifest(REPO, signatureTag(pointerDigest(other)));
  writeFileSync(join(cacheDir, otherSig.digest.replace(':', '-')), otherSig.bytes);
  writeFileSync(join(cacheDir, tagFiles[0]!), otherSig.digest);

  // With the registry out of reach, the forged entries are refused: nothing on stdout.
  renameSync(layout, `${layout}-away`);
  let offline: Awaited<ReturnType<typeof runPlugin>>;
  try {
    offline = await runPlugin(['generate'], good.dir, env(good.sourcePath, cacheName, pubA));
  } finally {
    renameSync(`${layout}-away`, layout);
  }
  assert.equal(offline.code, 1, offline.stderr);
  assert.equal(offline.stdout, '');
  assert.doesNotMatch(offline.stderr, /signature verified/);
  assert.match(offline.stderr, /refused by the signature check/);

  // With the registry there, the plugin pulls again, verifies, and renders the real release.
  const again = await runPlugin(['generate'], good.dir, env(good.sourcePath, cacheName, pubA));
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, first.stdout);
  assert.doesNotMatch(again.stdout, /planted/);
  assert.match(again.stderr, /did not pass a check .*pulled it again/);
  assert.ok(!readdirSync(cacheDir).some((n) => n.endsWith('.json')), 'the old-format entry is gone');
  // And now the repaired cache serves it, verified, with the registry away.
  renameSync(layout, `${layout}-away`);
  try {
    const warm = await runPlugin(['generate'], good.dir, env(good.sourcePath, cacheName, pubA));
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(warm.stdout, first.stdout);
    assert.match(warm.stderr, /\(signature verified\) from cache/);
  } finally {
    renameSync(`${layout}-away`, layout);
  }
});
