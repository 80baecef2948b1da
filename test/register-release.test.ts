/**
 * Registration with the registry pushes outside the transaction (issue 18, "Registration at
 * registry speed"): a failed signature push leaves nothing half-written, a registration whose
 * number moved while it pushed builds its image again with the new number, and one that lost
 * the race to register a commit puts the commit's tag back on the recorded image. Against
 * Debian's docker-registry on PostgreSQL; a pause after the push widens the race windows.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openReleaseStore } from '../src/registry/index.js';
import { freshPostgres } from './support/db.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { type Forge, releaseBody, sha, startForge, tempDir } from './support/forge.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
let registry: TestRegistry;
let proxy: FaultProxy;
let pgdb: Awaited<ReturnType<typeof freshPostgres>>;
let forge: Forge;
let paused: Forge;
let ci: string;

before(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.host);
  pgdb = await freshPostgres();
  const tokenKeyFile = `${tempDir()}/token-key`;
  forge = await startForge({ registry: proxy.host, databaseUrl: pgdb.url, tokenKeyFile });
  // a second replica on the same database and registry that waits after each push, before its transaction
  paused = await startForge({
    registry: registry.host,
    databaseUrl: pgdb.url,
    tokenKeyFile,
    env: { FORGE_FAULT_PAUSE_AFTER_PUSH_MS: '1500' },
  });
  ci = await forge.token(['service-account']);
});
after(async () => {
  await paused.stop();
  await forge.stop();
  await proxy.close();
  await registry.destroy();
  await pgdb.drop();
});

/** The tag's manifest digest and the release number its metadata layer holds, read from the registry. */
async function imageAt(repository: string, reference: string): Promise<{ digest: string | null; releaseNumber: number }> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/manifests/${reference}`, { headers: { accept: MANIFEST } });
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as { layers: { mediaType: string; digest: string }[] };
  const layer = manifest.layers.find((l) => l.mediaType === 'application/vnd.forge.release.metadata.v1+json')!;
  const metadata = (await (await fetch(`http://${registry.host}/v2/${repository}/blobs/${layer.digest}`)).json()) as {
    release_number: number;
  };
  return { digest: res.headers.get('docker-content-digest'), releaseNumber: metadata.release_number };
}

test('a signature push that fails leaves no row and consumes no number; the retry registers and signs', async () => {
  const refused = proxy.inject({
    action: { status: 500 },
    match: (method, url) => method === 'PUT' && /\/manifests\/sha256-.*\.sig$/.test(url),
    count: 50,
  });
  const failed = await forge.api('POST', '/releases', releaseBody({ project: 'unsigned' }, sha(1)), ci);
  assert.equal(failed.status, 503, failed.text);
  assert.equal(failed.body.error.code, 'registry_unavailable');
  assert.ok(refused.left() < 50, 'the signature PUT was tried');
  proxy.clear();
  assert.equal((await forge.api('GET', '/releases/acme/mono/unsigned', undefined, ci)).body.total, 0, 'no release row');
  const ok = await forge.api('POST', '/releases', releaseBody({ project: 'unsigned' }, sha(1)), ci);
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.release_number, 1, 'the failed attempt consumed no number');
  assert.ok(ok.body.signature?.digest, 'signed');
  const signature = await fetch(`http://${registry.host}/v2/acme/mono/unsigned/manifests/${ok.body.oci_digest.replace(':', '-')}.sig`, {
    method: 'HEAD',
    headers: { accept: MANIFEST },
  });
  assert.equal(signature.status, 200);
});

test('a registration whose number moved while it pushed builds its image again with the new number', async () => {
  // both plan number 1 and push; the first commits it; the second finds 1 taken and pushes again as 2
  const first = paused.api('POST', '/releases', releaseBody({ project: 'moved' }, sha(2)), ci);
  await new Promise((r) => setTimeout(r, 300));
  const second = paused.api('POST', '/releases', releaseBody({ project: 'moved' }, sha(3)), ci);
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.status, 201, a.text);
  assert.equal(b.status, 201, b.text);
  assert.deepEqual([a.body.release_number, b.body.release_number].sort(), [1, 2]);
  for (const r of [a.body, b.body]) {
    const image = await imageAt('acme/mono/moved', r.commit_sha);
    assert.equal(image.digest, r.oci_digest, 'the tag names the recorded image');
    assert.equal(image.releaseNumber, r.release_number, 'the image holds the recorded number');
  }
});

test('a registration that lost the race for its commit puts the tag back on the recorded image', async () => {
  // the same commit with different triggers: different images; the first commits, the second pushed last
  const first = paused.api('POST', '/releases', releaseBody({ project: 'raced' }, sha(4)), ci);
  await new Promise((r) => setTimeout(r, 300));
  const second = paused.api('POST', '/releases', releaseBody({ project: 'raced', trigger: { type: 'manual' } }, sha(4)), ci);
  const [a, b] = await Promise.all([first, second]);
  assert.deepEqual([a.status, b.status].sort(), [200, 201]);
  assert.equal(a.body.id, b.body.id);
  const image = await imageAt('acme/mono/raced', sha(4));
  assert.equal(image.digest, a.body.oci_digest, 'the tag names the recorded image, not the one pushed last');
});

test('on the embedded engine and image layout too, the tag goes back on the recorded image after a lost race', async (t) => {
  const dataDir = tempDir();
  const embedded = await startForge({ dataDir, env: { FORGE_FAULT_PAUSE_AFTER_PUSH_MS: '1500' } });
  t.after(() => embedded.stop());
  const token = await embedded.token(['service-account']);
  const first = embedded.api('POST', '/releases', releaseBody({ project: 'raced' }, sha(5)), token);
  await new Promise((r) => setTimeout(r, 300));
  const second = embedded.api('POST', '/releases', releaseBody({ project: 'raced', trigger: { type: 'manual' } }, sha(5)), token);
  const [a, b] = await Promise.all([first, second]);
  assert.deepEqual([a.status, b.status].sort(), [200, 201], `${a.text} ${b.text}`);
  const layout = openReleaseStore({ dataDir });
  assert.equal((await layout.getManifest('acme/mono/raced', sha(5))).digest, a.body.oci_digest);
});
