import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ForgeError } from '../src/core/errors.js';
import { buildReleaseImage, type ReleaseImage } from '../src/core/release-image.js';
import { openReleaseStore, type ReleaseStore } from '../src/registry/index.js';
import { startRegistry } from './support/registry.js';

const run = promisify(execFile);
const REPO = 'acme/mono/auth-service';

function image(sha: string, releaseNumber = 1): ReleaseImage {
  return buildReleaseImage({
    repository: 'acme/mono',
    project: 'auth-service',
    sha,
    releaseNumber,
    aliases: [{ alias: String(releaseNumber), alias_type: 'numeric' }],
    triggers: [{ type: 'manual' }],
    source: { committed_at: '2026-03-04T05:06:07Z' },
    artifacts: [],
    resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${sha.slice(0, 7)}` }, data: { n: String(releaseNumber) } }],
  });
}

const sha = (c: string) => c.repeat(40);
const push = (store: ReleaseStore, tag: string, img: ReleaseImage) =>
  store.push(REPO, tag, [img.config, img.metadata, img.resources], img.manifest);

function isUnavailable(pattern?: RegExp) {
  return (e: unknown) => e instanceof ForgeError && e.code === 'registry_unavailable' && (!pattern || pattern.test(e.message));
}

test('docker-registry without auth: push, read back, and skopeo sees the same bytes', async (t) => {
  const reg = await startRegistry();
  const work = await mkdtemp(join(tmpdir(), 'forge-skopeo-'));
  t.after(async () => {
    await reg.destroy();
    await rm(work, { recursive: true, force: true });
  });
  const store = openReleaseStore({ registry: `${reg.host}/forge`, dataDir: work });
  assert.equal(store.registry, `${reg.host}/forge`);
  await store.ping();

  const img = image(sha('a'));
  const digest = await push(store, sha('a'), img);
  assert.equal(digest, img.manifest.digest);
  assert.equal(await push(store, sha('a'), img), digest, 'pushing again (blobs present) gives the same digest');

  const ref = `docker://${reg.host}/forge/${REPO}:${sha('a')}`;
  const raw = (await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ref], { encoding: 'buffer' })).stdout;
  assert.ok(raw.equals(img.manifest.bytes), 'skopeo inspect --raw gives the pushed manifest byte for byte');
  assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, digest);

  await run('skopeo', ['copy', '--insecure-policy', '--src-tls-verify=false', ref, `oci:${join(work, 'copy')}:${sha('a')}`]);
  const index = JSON.parse(await readFile(join(work, 'copy', 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].digest, digest, 'skopeo copy to an OCI layout keeps the manifest digest');
  const copied = await readFile(join(work, 'copy', 'blobs', 'sha256', img.resources.digest.slice(7)));
  assert.ok(copied.equals(img.resources.bytes));

  const byTag = await store.getManifest(REPO, sha('a'));
  const byDigest = await store.getManifest(REPO, digest);
  assert.equal(byTag.digest, digest);
  assert.ok(byDigest.bytes.equals(img.manifest.bytes));
  assert.equal(byDigest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.ok((await store.getBlob(REPO, img.metadata.digest, img.metadata.size)).equals(img.metadata.bytes));
  await assert.rejects(store.getManifest(REPO, sha('f')), (e: ForgeError) => e.code === 'not_found');
  await assert.rejects(store.getBlob(REPO, img.metadata.digest, img.metadata.size + 1), isUnavailable(/expected/));
});

test('getBlob names the digest of a blob corrupted in the registry storage', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.destroy());
  const store = openReleaseStore({ registry: reg.host, dataDir: tmpdir() });
  const img = image(sha('b'));
  await push(store, sha('b'), img);
  const hex = img.resources.digest.slice(7);
  const file = join(reg.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  const bytes = await readFile(file);
  bytes[600] = bytes[600]! ^ 0xff;
  await writeFile(file, bytes);
  await assert.rejects(
    store.getBlob(REPO, img.resources.digest, img.resources.size),
    (e: ForgeError) => isUnavailable()(e) && e.message.includes(img.resources.digest) && e.details?.reason === 'digest_mismatch',
  );
});

test('a stopped registry gives registry_unavailable naming the registry; it works again after a restart', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.destroy());
  const store = openReleaseStore({ registry: `${reg.host}/forge`, dataDir: tmpdir() });
  await reg.stop();
  await assert.rejects(push(store, sha('c'), image(sha('c'))), isUnavailable(new RegExp(`${reg.host}.*(ECONNREFUSED|connect)`)));
  await assert.rejects(store.ping(), isUnavailable(new RegExp(reg.host)));
  await reg.start();
  assert.equal(await push(store, sha('c'), image(sha('c'))), image(sha('c')).manifest.digest);
});

test('a registry answering 500 (storage broken) gives registry_unavailable with the status', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.destroy());
  const store = openReleaseStore({ registry: reg.host, dataDir: tmpdir() });
  await rm(reg.storageDir, { recursive: true, force: true });
  await writeFile(reg.storageDir, 'not a directory'); // the filesystem driver cannot write below a file
  await assert.rejects(push(store, sha('d'), image(sha('d'))), isUnavailable(/HTTP 5\d\d/));
});

test('a registry that accepts connections but never answers times out as registry_unavailable', async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => {
    sockets.push(s);
  }); // a real listener that never replies
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    sockets.forEach((s) => s.destroy());
    silent.close();
  });
  const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const store = openReleaseStore({ registry: host, dataDir: tmpdir(), timeoutMs: 300 });
  await assert.rejects(store.ping(), isUnavailable(new RegExp(`${host}.*no answer within 0.3 s`)));
  await assert.rejects(store.getManifest(REPO, sha('e')), isUnavailable(/no answer/));
});

test('https is used unless the host is loopback, insecure is set or http:// is given', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.destroy());
  const img = image(sha('1'));
  await push(openReleaseStore({ registry: `http://${reg.host}/p`, dataDir: tmpdir() }), sha('1'), img);
  await assert.rejects(
    openReleaseStore({ registry: `https://${reg.host}/p`, dataDir: tmpdir() }).ping(),
    isUnavailable(new RegExp(reg.host)),
  );
  assert.equal(openReleaseStore({ registry: `https://${reg.host}/p/`, dataDir: tmpdir() }).registry, `${reg.host}/p`);
  assert.throws(
    () => openReleaseStore({ registry: 'user:pw@host/p', dataDir: tmpdir() }),
    (e: ForgeError) => e.code === 'validation_error',
  );
});

test('basic auth: the right credentials push; a wrong password or none gives registry_unavailable without the secret', async (t) => {
  const reg = await startRegistry({ auth: 'basic' });
  t.after(() => reg.destroy());
  const good = openReleaseStore({ registry: reg.host, dataDir: tmpdir(), username: reg.username, password: reg.password });
  const img = image(sha('2'));
  assert.equal(await push(good, sha('2'), img), img.manifest.digest);
  await good.ping();
  const raw = (
    await run(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', '--creds', `${reg.username}:${reg.password}`, `docker://${reg.host}/${REPO}:${sha('2')}`],
      { encoding: 'buffer' },
    )
  ).stdout;
  assert.ok(raw.equals(img.manifest.bytes));

  const wrong = openReleaseStore({ registry: reg.host, dataDir: tmpdir(), username: reg.username, password: 'wrong-password-123' });
  await assert.rejects(
    push(wrong, sha('3'), image(sha('3'))),
    (e: ForgeError) =>
      isUnavailable(/rejected the credentials/)(e) && !e.message.includes('wrong-password-123') && !e.message.includes(reg.password!),
  );
  await assert.rejects(wrong.getManifest(REPO, sha('2')), isUnavailable(/rejected the credentials/));
  const none = openReleaseStore({ registry: reg.host, dataDir: tmpdir() });
  await assert.rejects(none.getManifest(REPO, sha('2')), isUnavailable(/requires credentials/));
});

test('bearer token auth: tokens from the realm, with basic credentials; wrong ones are refused by the token service', async (t) => {
  const reg = await startRegistry({ auth: 'token' });
  t.after(() => reg.destroy());
  const store = openReleaseStore({ registry: `${reg.host}/forge`, dataDir: tmpdir(), username: reg.username, password: reg.password });
  await store.ping();
  const img = image(sha('4'));
  assert.equal(await push(store, sha('4'), img), img.manifest.digest);
  assert.ok((await store.getBlob(REPO, img.resources.digest, img.resources.size)).equals(img.resources.bytes));
  const raw = (
    await run(
      'skopeo',
      [
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        `${reg.username}:${reg.password}`,
        `docker://${reg.host}/forge/${REPO}:${sha('4')}`,
      ],
      { encoding: 'buffer' },
    )
  ).stdout;
  assert.ok(raw.equals(img.manifest.bytes));

  const wrong = openReleaseStore({ registry: `${reg.host}/forge`, dataDir: tmpdir(), username: reg.username, password: 'nope-secret' });
  await assert.rejects(
    wrong.getManifest(REPO, sha('4')),
    (e: ForgeError) => isUnavailable(/token service .* rejected the credentials/)(e) && !e.message.includes('nope-secret'),
  );
});
