/**
 * Signed releases (issue 6, acceptance 7): at creation the server signs the release manifest
 * digest (a sigstore bundle made offline with its key), pushes it as an OCI manifest with
 * artifactType application/vnd.dev.sigstore.bundle.v0.3+json, subject = the release manifest,
 * tagged sha256-<hex>.sig, and records it on the release; `forge release verify` checks it and
 * refuses an unsigned or wrongly signed release.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUNDLE_MEDIA_TYPE, buildSignatureImage, signatureTag } from '../src/core/signature-image.js';
import { openReleaseStore } from '../src/registry/index.js';
import { loadOrCreateSigningKey, signDigest, verifyDigestBundle } from '../src/signing/index.js';
import { type Forge, releaseBody, runCli, sha, startForge, tempDir } from './support/forge.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

describe('signed releases in a real registry', () => {
  let registry: TestRegistry;
  let forge: Forge;
  before(async () => {
    registry = await startRegistry();
    forge = await startForge({ registry: registry.host });
  });
  after(async () => {
    await forge.stop();
    await registry.destroy();
  });

  test('the signature is pushed beside the image, names it as subject, and verifies offline with the public key', async () => {
    const ci = await forge.token(['service-account'], 'ci@example.com');
    const created = await forge.api('POST', '/releases', releaseBody(), ci);
    assert.equal(created.status, 201, created.text);
    const r = created.body;
    assert.match(r.signature.digest, /^sha256:[0-9a-f]{64}$/);
    const keyFile = join(forge.dataDir, 'signing-key.pem');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = loadOrCreateSigningKey(keyFile);
    assert.equal(r.signature.key_id, key.keyId);
    assert.equal((await forge.api('GET', '/releases/acme/mono/auth-service/1', undefined, ci)).body.signature.digest, r.signature.digest);

    const tag = signatureTag(r.oci_digest);
    assert.equal(tag, `sha256-${r.oci_digest.slice(7)}.sig`);
    const res = await fetch(`http://${registry.host}/v2/acme/mono/auth-service/manifests/${tag}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), r.signature.digest);
    const manifest = (await res.json()) as {
      artifactType: string;
      subject: { digest: string; mediaType: string };
      layers: { mediaType: string; digest: string }[];
    };
    assert.equal(manifest.artifactType, BUNDLE_MEDIA_TYPE);
    assert.deepEqual([manifest.subject.digest, manifest.subject.mediaType], [r.oci_digest, 'application/vnd.oci.image.manifest.v1+json']);
    assert.equal(manifest.layers[0].mediaType, BUNDLE_MEDIA_TYPE);
    const bundle = (await (
      await fetch(`http://${registry.host}/v2/acme/mono/auth-service/blobs/${manifest.layers[0].digest}`)
    ).json()) as Record<string, any>;
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(bundle.dsseEnvelope, 'a DSSE envelope');
    assert.deepEqual(Object.keys(bundle.verificationMaterial.publicKey), ['hint'], 'no Fulcio certificate');
    assert.ok(!bundle.verificationMaterial.tlogEntries?.length, 'no Rekor entry: made offline');
    assert.deepEqual(verifyDigestBundle(readFileSync(`${keyFile}.pub`, 'utf8'), bundle, r.oci_digest), { keyId: key.keyId });

    // skopeo sees the signature manifest too.
    const inspected = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/acme/mono/auth-service:${tag}`], {
        encoding: 'utf8',
      }),
    );
    assert.equal(inspected.subject.digest, r.oci_digest);

    const ok = await runCli(['release', 'verify', 'auth-service', '1', '--repository', 'acme/mono', '--server', forge.url, '--token', ci], {
      env: { FORGE_SIGNING_PUBLIC_KEY_FILE: `${keyFile}.pub` },
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`verified: release 1 \\(${r.oci_digest}\\) is signed by key ${key.keyId}`));
  });
});

describe('forge release verify refuses unsigned and wrongly signed releases', () => {
  let forge: Forge;
  let ci: string;
  let pub: string;
  const verify = (ref: string, publicKey = pub) =>
    runCli([
      'release',
      'verify',
      'auth-service',
      ref,
      '--repository',
      'acme/mono',
      '--server',
      forge.url,
      '--token',
      ci,
      '--public-key',
      publicKey,
    ]);
  const store = () => openReleaseStore({ dataDir: forge.dataDir });
  before(async () => {
    forge = await startForge();
    ci = await forge.token(['service-account'], 'ci@example.com');
    for (let i = 1; i <= 4; i++) assert.equal((await forge.api('POST', '/releases', releaseBody({}, sha(i)), ci)).status, 201);
    pub = join(forge.dataDir, 'signing-key.pem.pub');
  });
  after(() => forge.stop());

  const release = async (n: number) => (await forge.api('GET', `/releases/acme/mono/auth-service/${n}`, undefined, ci)).body;

  test('signed by the server: verified; with another public key: refused', async () => {
    assert.equal((await verify('1')).code, 0);
    const other = loadOrCreateSigningKey(join(tempDir(), 'other.pem'));
    const otherPub = join(tempDir(), 'other.pub');
    writeFileSync(otherPub, other.publicKeyPem);
    const res = await verify('1', otherPub);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /is signed by key [0-9a-f]{16}…, not by the configured public key/);
  });

  test('the signature removed from the registry: refused as unsigned', async () => {
    const r = await release(2);
    const indexFile = join(forge.dataDir, 'registry', 'acme/mono/auth-service', 'index.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8'));
    index.manifests = index.manifests.filter(
      (m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] !== signatureTag(r.oci_digest),
    );
    writeFileSync(indexFile, JSON.stringify(index));
    const res = await verify('2');
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`the release ${r.oci_digest} is not signed`));
  });

  test('replaced by a signature of another key, or of another release: refused', async () => {
    const r3 = await release(3);
    const attacker = loadOrCreateSigningKey(join(tempDir(), 'attacker.pem'));
    const forged = buildSignatureImage(await signDigest(attacker, r3.canonical_id, r3.oci_digest), { digest: r3.oci_digest, size: 1 });
    await store().push('acme/mono/auth-service', signatureTag(r3.oci_digest), forged.blobs, forged.manifest);
    const byOtherKey = await verify('3');
    assert.equal(byOtherKey.code, 1);
    assert.match(byOtherKey.stderr, /not by the configured public key/);

    // The server's own, valid signature of release 1, put under release 4's tag.
    const [r1, r4] = [await release(1), await release(4)];
    const server = loadOrCreateSigningKey(join(forge.dataDir, 'signing-key.pem'));
    const replayed = buildSignatureImage(await signDigest(server, r1.canonical_id, r1.oci_digest), { digest: r4.oci_digest, size: 1 });
    await store().push('acme/mono/auth-service', signatureTag(r4.oci_digest), replayed.blobs, replayed.manifest);
    const otherRelease = await verify('4');
    assert.equal(otherRelease.code, 1);
    assert.match(otherRelease.stderr, new RegExp(`the signature is for ${r1.oci_digest}, not for the release manifest ${r4.oci_digest}`));
  });

  test('a tampered signature value is refused', async () => {
    const b = (await signDigest(loadOrCreateSigningKey(join(forge.dataDir, 'signing-key.pem')), 'x', `sha256:${'a'.repeat(64)}`)) as {
      dsseEnvelope: { signatures: { sig: string }[] };
    };
    const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
    sig[sig.length - 1] ^= 1;
    b.dsseEnvelope.signatures[0].sig = sig.toString('base64');
    assert.throws(
      () => verifyDigestBundle(readFileSync(pub, 'utf8'), b, `sha256:${'a'.repeat(64)}`),
      /does not verify with the configured public key/,
    );
  });

  test('review F9: no public key given: a plain user verifies with the key set the server publishes (GET /signing-keys)', async () => {
    const dev = await forge.token(['developer'], 'dev@example.com');
    const args = (ref: string) => [
      'release',
      'verify',
      'auth-service',
      ref,
      '--repository',
      'acme/mono',
      '--server',
      forge.url,
      '--token',
      dev,
    ];
    const res = await runCli([...args('1'), '-o', 'json'], { env: { FORGE_SIGNING_PUBLIC_KEY_FILE: '' } });
    assert.equal(res.code, 0, res.stderr);
    const answer = JSON.parse(res.stdout);
    assert.equal(answer.verified, true);
    assert.equal(answer.public_key, 'the key set the server publishes (GET /signing-keys)');
    const text = await runCli(args('1'), { env: { FORGE_SIGNING_PUBLIC_KEY_FILE: '' } });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /is signed by key [0-9a-f]+ \(checked with the key set the server publishes/);
    // The published set still refuses what the set does not sign (release 3 carries an attacker's signature above).
    const forged = await runCli(args('3'), { env: { FORGE_SIGNING_PUBLIC_KEY_FILE: '' } });
    assert.equal(forged.code, 1);
    assert.match(forged.stderr, /not by the configured public key/);
  });
});
