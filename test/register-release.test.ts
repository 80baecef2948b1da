/**
 * Registration with the blob pushes outside the transaction (issue 18, "Registration at
 * registry speed"): a failed signature push leaves nothing half-written, a registration whose
 * number moved while it pushed builds its image again with the new number, one that loses the
 * race to register a commit never moves the commit's tag nor signs its image (the tag and the
 * signature are pushed only under the project's lock), and a refused registration uploads
 * nothing. Against Debian's docker-registry on PostgreSQL; a pause after the push (inside the
 * locked section) widens the race windows.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { signatureTag } from '../src/core/signature-image.js';
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

test('the 201 answer is the release as read back: signature, tag and branch aliases, trigger (one insert statement records them)', async () => {
  const created = await forge.api(
    'POST',
    '/releases',
    releaseBody(
      { project: 'read-back', trigger: { type: 'tag', tag: 'read-back/v9.1.0' }, commit: { ...releaseBody().commit, sha: sha(901) } },
      sha(901),
    ),
    ci,
  );
  assert.equal(created.status, 201, created.text);
  const pushed = await forge.api('POST', '/releases', releaseBody({ project: 'read-back' }, sha(902)), ci);
  assert.equal(pushed.status, 201, pushed.text);
  for (const answer of [created, pushed]) {
    const read = await forge.api('GET', `/releases/acme/mono/read-back/${answer.body.commit_sha}`, undefined, ci);
    assert.equal(read.status, 200, read.text);
    // the auto-deployment the registration started moves on by itself (pending → active)
    const moving = (body: { auto_deployments?: { id: string; environment: string }[] }) => ({
      ...body,
      auto_deployments: body.auto_deployments?.map((d) => ({ id: d.id, environment: d.environment })),
    });
    assert.deepEqual(moving(answer.body), moving(read.body));
  }
  assert.ok(created.body.signature?.digest, 'signed');
  assert.deepEqual(
    created.body.aliases.map((a: { alias_type: string }) => a.alias_type),
    ['numeric', 'tag'],
  );
  assert.deepEqual(
    pushed.body.aliases.map((a: { alias: string }) => a.alias),
    ['2', 'main-2'],
  );
  assert.equal(created.body.triggers[0].type, 'tag');
});

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

/** The manifest digest the tag names in the test registry, or null when there is no such tag. */
async function tagDigest(repository: string, tag: string): Promise<string | null> {
  const res = await fetch(`http://${registry.host}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept: MANIFEST } });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

/** The signature tags (`sha256-<hex>.sig`) of a repository in the test registry. */
async function signatureTags(repository: string): Promise<string[]> {
  const { tags } = (await (await fetch(`http://${registry.host}/v2/${repository}/tags/list`)).json()) as { tags: string[] | null };
  return (tags ?? []).filter((t) => t.endsWith('.sig'));
}

/** Samples `read` every 25 ms until `done` settles: the values seen, in order. */
async function sampleWhile<T>(done: Promise<unknown>, read: () => Promise<T>): Promise<T[]> {
  let settled = false;
  void done.finally(() => {
    settled = true;
  });
  const seen: T[] = [];
  while (!settled) {
    seen.push(await read());
    await new Promise((r) => setTimeout(r, 25));
  }
  return seen;
}

/** The two responses of a race for one commit, the recorded one (201) first, the other (200) second. */
function winnerFirst<R extends { status: number; text: string }>(pair: R[]): [R, R] {
  const statuses = pair.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 201], pair.map((r) => r.text).join('\n'));
  const won = pair.find((r) => r.status === 201)!;
  return [won, pair.find((r) => r !== won)!];
}

const attacker = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'evil' }, data: { x: 'attacker' } }];

test('a registration that loses the race for its commit never moves the tag <sha> nor signs its own image', async () => {
  // The first plans, pushes its blobs, takes the lock, tags, signs and pauses there before its
  // insert; the second (other resources) reads its plan meanwhile, finds no release of the
  // commit, pushes its blobs and waits for the lock: it must find the commit registered and
  // push nothing that names its image.
  const repository = 'acme/mono/raced';
  const first = paused.api('POST', '/releases', releaseBody({ project: 'raced' }, sha(4)), ci);
  await new Promise((r) => setTimeout(r, 300));
  const second = paused.api('POST', '/releases', releaseBody({ project: 'raced', resources: attacker }, sha(4)), ci);
  const both = Promise.all([first, second]);
  const seen = await sampleWhile(both, () => tagDigest(repository, sha(4)));
  // The first usually wins; on a loaded machine the second may reach the lock first. Either
  // way exactly one is recorded and the other must leave the registry as the winner left it.
  const [a, b] = winnerFirst(await both);
  assert.equal(b.body.id, a.body.id);
  assert.equal(b.body.content_matches, false, 'the two requests sent other resources');
  assert.ok(seen.length > 20, `the tag was sampled through both requests (${seen.length} samples)`);
  assert.deepEqual([...new Set(seen.filter((d) => d !== null))], [a.body.oci_digest], 'the tag <sha> only ever named the recorded image');
  assert.equal(await tagDigest(repository, sha(4)), a.body.oci_digest);
  assert.deepEqual(await signatureTags(repository), [signatureTag(a.body.oci_digest)], 'one signature: the recorded image’s');
});

test('many registrations of one commit at once, each with other content, leave one signature and the tag on the recorded image', async () => {
  const repository = 'acme/mono/crowd';
  // All read their plan before the first commits (it pauses under the lock before its insert).
  const runs = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      paused.api(
        'POST',
        '/releases',
        releaseBody(
          { project: 'crowd', resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { run: String(i) } }] },
          sha(6),
        ),
        ci,
      ),
    ),
  );
  assert.deepEqual(runs.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201], runs.map((r) => r.text).join('\n'));
  const recorded = runs.find((r) => r.status === 201)!.body.oci_digest as string;
  assert.ok(runs.every((r) => r.body.oci_digest === recorded));
  assert.equal(await tagDigest(repository, sha(6)), recorded);
  assert.deepEqual(await signatureTags(repository), [signatureTag(recorded)]);
});

test('a registration refused with 409 alias_conflict uploads nothing to the registry', async () => {
  const held = await forge.api(
    'POST',
    '/releases',
    releaseBody({ project: 'refused', tags: ['v1'], tagging_strategy: 'tag-all' }, sha(7)),
    ci,
  );
  assert.equal(held.status, 201, held.text);
  const before = new Map(proxy.seen);
  const refused = await forge.api(
    'POST',
    '/releases',
    releaseBody({ project: 'refused', tags: ['v1'], tagging_strategy: 'tag-all', resources: attacker }, sha(8)),
    ci,
  );
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.body.error.code, 'alias_conflict');
  const sent = [...proxy.seen].filter(([k, n]) => !k.startsWith('GET') && !k.startsWith('HEAD') && n !== (before.get(k) ?? 0));
  assert.deepEqual(sent, [], 'no upload, no manifest');
});

test('on the embedded engine and image layout too, a lost race leaves the tag and the one signature on the recorded image', async (t) => {
  const dataDir = tempDir();
  const embedded = await startForge({ dataDir, env: { FORGE_FAULT_PAUSE_AFTER_PUSH_MS: '1500' } });
  t.after(() => embedded.stop());
  const token = await embedded.token(['service-account']);
  const first = embedded.api('POST', '/releases', releaseBody({ project: 'raced' }, sha(5)), token);
  await new Promise((r) => setTimeout(r, 300));
  const second = embedded.api('POST', '/releases', releaseBody({ project: 'raced', resources: attacker }, sha(5)), token);
  const [a, b] = winnerFirst(await Promise.all([first, second]));
  assert.equal(b.body.content_matches, false, 'the two requests sent other resources');
  const index = JSON.parse(await readFile(join(dataDir, 'registry', 'acme', 'mono', 'raced', 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const named = index.manifests.map((m) => [m.annotations?.['org.opencontainers.image.ref.name'], m.digest]);
  assert.deepEqual(
    named.filter(([tag]) => tag === sha(5)),
    [[sha(5), a.body.oci_digest]],
  );
  assert.ok(a.body.signature, 'signed');
  assert.deepEqual(
    named.filter(([tag]) => tag?.endsWith('.sig')).map(([tag]) => tag),
    [signatureTag(a.body.oci_digest)],
  );
});
