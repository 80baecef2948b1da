/**
 * The diff of two releases over HTTP (issue #16 acceptance 4; issue #19 item 2): the semantic
 * diff as JSON, the unified text diff, Secret values never in either, and the work done in a
 * worker thread with a time and a memory limit, so other requests are answered meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildResourcesLayer } from '../src/core/release-image.js';
import type { DiffJob } from '../src/services/diff-worker.js';
import { runDiffJob } from '../src/services/release-diff.js';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';

let forge: Forge;
let ci: string;
let dev: string;
before(async () => {
  forge = await startForge();
  ci = await forge.token(['service-account'], 'ci@example.com');
  dev = await forge.token(['developer'], 'dev@example.com');
});
after(() => forge.stop());

const configMaps = (n: number, keys: number, value: string) =>
  Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}` },
    data: Object.fromEntries(Array.from({ length: keys }, (_, k) => [`key-${k}`, `${value}-${k}-${'x'.repeat(40)}`])),
  }));

function job(a: Record<string, unknown>[], b: Record<string, unknown>[], format: DiffJob['format'] = 'semantic'): DiffJob {
  const side = (n: number, objects: Record<string, unknown>[]) => {
    const { blob } = buildResourcesLayer(objects);
    return { release_number: n, commit_sha: sha(n), layer: new Uint8Array(blob.bytes), mediaType: blob.mediaType };
  };
  return { format, from: side(1, a), to: side(2, b) };
}

test('GET …/diff/{other}?format=semantic: objects by identity, field paths, Secret values hidden; unified text too', async () => {
  const project = 'diff-svc';
  const secret = (password: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password } });
  const one = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', image: 'web:1' }] } } },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'old' }, data: { a: '1' } },
    secret('c2VjcmV0LW9uZQ=='),
  ];
  const two = [
    secret('c2VjcmV0LXR3bw=='),
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new', namespace: 'default' }, data: { a: '1' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { template: { spec: { containers: [{ image: 'web:2', name: 'web' }] } }, replicas: 1 },
    },
  ];
  for (const [n, resources] of [
    [1, one],
    [2, two],
  ] as const) {
    const res = await forge.api('POST', '/releases', releaseBody({ project, resources }, sha(n)), ci);
    assert.equal(res.status, 201, res.text);
  }
  const res = await forge.api('GET', `/releases/acme/mono/${project}/1/diff/2?format=semantic`, undefined, dev);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.from.release_number, 1);
  assert.equal(res.body.to.release_number, 2);
  assert.deepEqual(res.body.added, [{ group: '', kind: 'ConfigMap', namespace: 'default', name: 'new' }]);
  assert.deepEqual(res.body.removed, [{ group: '', kind: 'ConfigMap', namespace: 'default', name: 'old' }]);
  assert.deepEqual(
    res.body.changed.map((c: { kind: string; changes: unknown[] }) => [c.kind, c.changes]),
    [
      ['Secret', [{ path: 'data.password', old: '(hidden)', new: '(hidden)' }]],
      [
        'Deployment',
        // the namespace now written out is the one it defaulted to: no change
        [{ path: 'spec.template.spec.containers[name=web].image', old: 'web:1', new: 'web:2' }],
      ],
    ],
  );
  assert.ok(!res.text.includes('c2VjcmV0'), 'no Secret value in the semantic diff');

  const unified = await forge.api('GET', `/releases/acme/mono/${project}/1/diff/2`, undefined, dev);
  assert.equal(unified.status, 200);
  assert.match(unified.text, /^\+\+\+ release 2\/default\/configmap\/new\.yaml/m);
  assert.match(unified.text, /^-.*image: web:1$/m);
  assert.ok(!unified.text.includes('c2VjcmV0'), 'no Secret value in the unified diff either');
  assert.match(unified.text, /^- {2}password: "?\(hidden\)"?\n\+ {2}password: "?\(hidden, changed\)"?$/m);
  const bad = await forge.api('GET', `/releases/acme/mono/${project}/1/diff/2?format=html`, undefined, dev);
  assert.equal(bad.status, 400);
  const missing = await forge.api('GET', `/releases/acme/mono/${project}/1/diff/9?format=semantic`, undefined, dev);
  assert.equal(missing.status, 404);
});

test('a diff past its time or memory limit is refused with 413 and the thread is stopped', async () => {
  // a job's layers move to its thread: each run gets its own
  const big = () => job(configMaps(300, 40, 'a'), configMaps(300, 40, 'b'));
  await assert.rejects(runDiffJob(big(), { timeoutMs: 1, maxHeapMb: 512 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'payload_too_large');
    assert.match(e.message, /did not finish within 0\.001 s/);
    return true;
  });
  await assert.rejects(
    runDiffJob(job(configMaps(2000, 40, 'a'), configMaps(2000, 40, 'b')), { timeoutMs: 60_000, maxHeapMb: 16 }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'payload_too_large');
      assert.match(e.message, /needs more than 16 MiB of memory/);
      return true;
    },
  );
  // within its limits the same work answers
  const ok = await runDiffJob(big());
  assert.equal(ok.semantic!.changed.length, 300);
  assert.equal(ok.semantic!.changed[0].changes.length, 40);
});

test('the event loop is free while a large diff runs: other requests are answered before it', async () => {
  const heavy = job(configMaps(2000, 40, 'a'), configMaps(2000, 40, 'b'), 'unified');
  const order: string[] = [];
  const diff = runDiffJob(heavy).then(() => order.push('diff'));
  // turns of the event loop while the diff runs: on the event loop there would be none
  let turns = 0;
  const ticker = setInterval(() => turns++, 1);
  const health = await fetch(`${forge.url}/healthz`).then((r) => {
    order.push('healthz');
    return r.status;
  });
  await diff;
  clearInterval(ticker);
  assert.equal(health, 200);
  assert.deepEqual(order, ['healthz', 'diff']);
  assert.ok(turns > 0);
});
