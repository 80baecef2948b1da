/**
 * Heavy work never stalls the server (issue #19 item 2) and one set of release limits holds
 * from registration to every reader (issue #12 item 11), against a real server.
 * - A 9.8 MB registration of 300,000 keys and two semantic diffs run in worker threads:
 *   `/healthz` and a light read are answered while they still run.
 * - The queue in front of the threads is bounded: a diff past it is a 503 `server_busy` with
 *   the envelope and Retry-After, at once.
 * - What registration accepts can be read back and diffed; past a limit it is a 413 naming the
 *   limit and the object (object size, total size, object count after Lists are flattened,
 *   nesting depth a 400).
 * How fast `/healthz` answers meanwhile is measured by bench/healthz.ts, not asserted here.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildResourcesLayer } from '../src/core/release-image.js';
import { RELEASE_LIMITS } from '../src/core/release-limits.js';
import type { DiffJob } from '../src/services/diff-worker.js';
import { diffPool, runDiffJob } from '../src/services/release-diff.js';
import { releasePool } from '../src/services/release-packing.js';
import { packLayer } from '../src/services/release-worker.js';
import { WorkerPool } from '../src/services/worker-pool.js';
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
    data: Object.fromEntries(Array.from({ length: keys }, (_, k) => [`key-${k}`, `${value}-${k}-xxxxxxxxxxxxxxx`])),
  }));

const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 6000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok(), what);
};

function post(path: string, body: unknown, token: string) {
  return fetch(`${forge.url}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

test('a 300,000-key registration and two large diffs run off the event loop: /healthz and a light read are served meanwhile', async () => {
  const project = 'heavy-svc';
  for (const [n, value] of [
    [1, 'a'],
    [2, 'b'],
  ] as const) {
    const res = await forge.api('POST', '/releases', releaseBody({ project, resources: configMaps(300, 40, value) }, sha(n)), ci);
    assert.equal(res.status, 201, res.text);
  }
  const heavy = releaseBody({ project, resources: configMaps(300, 1000, 'c') }, sha(3));
  assert.ok(JSON.stringify(heavy).length > 9_000_000, 'the registration is the 9.6 MB kind of the issue');

  const settled = { registration: false, diffs: false };
  const registration = post('/releases', heavy, ci).then(async (r) => {
    settled.registration = true;
    return { status: r.status, text: await r.text() };
  });
  const diffs = Promise.all(
    [0, 1].map(() =>
      fetch(`${forge.url}/api/v1/releases/acme/mono/${project}/1/diff/2?format=semantic`, {
        headers: { authorization: `Bearer ${dev}` },
      }).then(async (r) => ({ status: r.status, text: await r.text() })),
    ),
  ).then((r) => {
    settled.diffs = true;
    return r;
  });
  // the registration has reached its packing thread (its body is parsed and checked)
  await until('the registration is being packed in a worker thread', () => releasePool.load.running > 0);

  const health = await fetch(`${forge.url}/healthz`);
  const stillRunning = { ...settled };
  const light = await forge.api('GET', `/releases/acme/mono/${project}/1`, undefined, dev);
  const stillRunningAfterLight = settled.registration;
  assert.equal(health.status, 200);
  assert.equal(light.status, 200, light.text);
  assert.equal(light.body.release_number, 1);
  assert.equal(stillRunning.registration, false, '/healthz was answered while the registration still ran');
  assert.equal(stillRunningAfterLight, false, 'the light read was answered while the registration still ran');

  const created = await registration;
  assert.equal(created.status, 201, created.text);
  for (const d of await diffs) {
    assert.equal(d.status, 200, d.text);
    assert.equal(JSON.parse(d.text).changed.length, 300);
  }
  // the packed release reads back
  const resources = await forge.api('GET', `/releases/acme/mono/${project}/3/resources`, undefined, dev, { accept: 'application/json' });
  assert.equal(resources.status, 200);
  assert.equal(resources.body.length, 300);
  assert.equal(Object.keys(resources.body[0].data).length, 1000);
});

test('a registration body is parsed in its packing thread, never on the event loop; who may not register is refused before it is read; other bodies stay small', async () => {
  // every JSON text the server's own thread parses is recorded (the worker threads have their own JSON)
  const parsedHere: number[] = [];
  const original = JSON.parse;
  JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    parsedHere.push(String(text).length);
    return original(text, reviver);
  }) as typeof JSON.parse;
  try {
    const body = releaseBody({ project: 'parsed-elsewhere', resources: configMaps(300, 300, 'p') }, sha(31));
    assert.ok(JSON.stringify(body).length > 2_000_000);
    const created = await post('/releases', body, ci);
    assert.equal(created.status, 201, await created.text());
    assert.ok(Math.max(0, ...parsedHere) < 100_000, `the event loop parsed a JSON text of ${Math.max(...parsedHere)} characters`);
    // bad JSON and bad text are still 400s naming what is wrong, from the thread
    const broken = await fetch(`${forge.url}/api/v1/releases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ci}` },
      body: '{"repository": "acme/mono", "resources": [',
    });
    assert.equal(broken.status, 400);
    assert.match((await broken.json()).error.message, /request body is not valid JSON .*ends too early/);
    const poisoned = await fetch(`${forge.url}/api/v1/releases`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ci}` },
      body: '{"resources": [{"__proto__": {"admin": true}}]}',
    });
    assert.equal(poisoned.status, 400);
    assert.match((await poisoned.json()).error.details.fields[0].message, /__proto__/);
  } finally {
    JSON.parse = original;
  }
  // a developer may not register: refused before its body is read, however large
  const pool = releasePool.load;
  const refused = await post('/releases', releaseBody({ project: 'nope', resources: configMaps(300, 200, 'q') }, sha(32)), dev);
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error.code, 'permission_denied');
  assert.equal(releasePool.load.running, pool.running);
  // any other route's body is parsed on the event loop: it may be 1 MiB at most
  const huge = await post('/policy-checks', { environment: 'dev', padding: 'x'.repeat(2 * 2 ** 20) }, dev);
  assert.equal(huge.status, 413);
  assert.match((await huge.json()).error.message, /larger than 1048576 bytes/);
});

test('reading a release back is linear in its keys: one object of 40,000 keys reads back (it took 69 s, past the 60 s job limit)', async () => {
  const wide = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'wide' },
    data: Object.fromEntries(Array.from({ length: 40_000 }, (_, k) => [`key-${k}`, `v${k}`])),
  };
  const created = await forge.api('POST', '/releases', releaseBody({ project: 'wide-svc', resources: [wide] }, sha(41)), ci);
  assert.equal(created.status, 201, created.text);
  const read = await forge.api('GET', '/releases/acme/mono/wide-svc/1/resources', undefined, dev, { accept: 'application/json' });
  assert.equal(read.status, 200, read.text.slice(0, 300));
  assert.equal(Object.keys(read.body[0].data).length, 40_000);
  assert.equal(read.body[0].data['key-39999'], 'v39999');
});

/** Diffs of two releases of 1,500 ConfigMaps: seconds of work each. */
function diffJobs(count: number): DiffJob[] {
  const [a, b] = ['a', 'b'].map((value) => buildResourcesLayer(configMaps(1500, 40, value)).blob);
  // each job's layers move to its thread: each gets copies of its own
  const side = (r: number, blob: typeof a) => ({
    release_number: r,
    commit_sha: sha(r),
    layer: new Uint8Array(blob!.bytes),
    mediaType: blob!.mediaType,
  });
  return Array.from({ length: count }, (_, i) => ({ format: 'semantic', from: side(10 * i + 1, a), to: side(10 * i + 2, b) }));
}

test('a diff past the bounded queue is a 503 server_busy with the envelope and Retry-After, at once', async () => {
  const project = 'busy-svc';
  for (const n of [1, 2]) {
    const res = await forge.api('POST', '/releases', releaseBody({ project }, sha(100 + n)), ci);
    assert.equal(res.status, 201, res.text);
  }
  const { size, maxQueue } = diffPool.options;
  // every thread busy and every place in the queue taken
  const occupying = diffJobs(size + maxQueue).map((j) => runDiffJob(j));
  assert.deepEqual(diffPool.load, { running: size, queued: maxQueue });
  const res = await fetch(`${forge.url}/api/v1/releases/acme/mono/${project}/1/diff/2?format=semantic`, {
    headers: { authorization: `Bearer ${dev}` },
  });
  const body = await res.json();
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '5');
  assert.equal(body.error.code, 'server_busy');
  assert.match(
    body.error.message,
    /the server is busy: 2 heavy jobs of this kind run and 4 wait .*the diff of release 1 and release 2 was not started: retry in 5 s/,
  );
  assert.equal(body.error.details.retry_after_seconds, 5);
  // the jobs in the queue all finish; then the same diff is answered
  for (const answer of await Promise.all(occupying)) assert.equal(answer.semantic!.changed.length, 1500);
  const again = await forge.api('GET', `/releases/acme/mono/${project}/1/diff/2?format=semantic`, undefined, dev);
  assert.equal(again.status, 200, again.text);
});

test('the queue is bounded by its input bytes too; urgent work goes first; a job past its time limit is stopped and the pool serves the next', async () => {
  const pool = new WorkerPool({
    module: 'release-worker',
    size: 1,
    maxQueue: 10,
    maxQueuedBytes: 100,
    limits: { timeoutMs: 60_000, maxHeapMb: 256 },
    retryAfterSeconds: 2,
  });
  const body = new TextEncoder().encode(JSON.stringify({ resources: configMaps(300, 100, 'a') }));
  const job = { kind: 'registration', body, maxObjects: 5000 };
  const running = pool.run(job, { what: 'job 1' });
  const waiting = pool.run(job, { what: 'job 2', weight: 80 });
  await assert.rejects(pool.run(job, { what: 'job 3', weight: 80 }), (e: Error & { code?: string; details?: Record<string, unknown> }) => {
    assert.equal(e.code, 'server_busy');
    assert.match(e.message, /job 3 was not started: retry in 2 s/);
    assert.equal(e.details?.retry_after_seconds, 2);
    return true;
  });
  // the second step of admitted work (an image built under the project's lock) is never refused, and goes first
  const order: string[] = [];
  const urgent = pool.run(job, { what: 'urgent job', weight: 80, urgent: true }).then(() => order.push('urgent'));
  await Promise.all([running, waiting.then(() => order.push('job 2')), urgent]);
  assert.deepEqual(order, ['urgent', 'job 2']);
  await assert.rejects(pool.run(job, { what: 'job 4', limits: { timeoutMs: 1, maxHeapMb: 256 }, hint: 'make it smaller' }), {
    code: 'payload_too_large',
    message: 'job 4 did not finish within 0.001 s and was stopped; make it smaller',
  });
  const after = await pool.run<{ layer: { objects: unknown[] } }>(job, { what: 'job 5' });
  assert.equal(after.layer.objects.length, 300);
});

test('one set of limits: what registration accepts reads back and diffs; past a limit it is refused naming the limit and the object', async () => {
  const project = 'limits-svc';
  const big = (name: string, bytes: number) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data: { blob: 'x'.repeat(bytes) },
  });
  const small = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'small' }, data: { a: '1' } };

  // the input: a 5 MiB ConfigMap was accepted, then /resources answered 413 and the plugin refused it
  const tooBig = await forge.api('POST', '/releases', releaseBody({ project, resources: [small, big('huge', 5 * 2 ** 20)] }, sha(201)), ci);
  assert.equal(tooBig.status, 413, tooBig.text);
  assert.equal(tooBig.body.error.code, 'payload_too_large');
  assert.match(
    tooBig.body.error.message,
    /^resources\[1\] \(ConfigMap "huge"\) is \d+ bytes as YAML; one object may be at most 4194304 bytes/,
  );
  assert.deepEqual(
    { field: tooBig.body.error.details.field, limit: tooBig.body.error.details.limit, max: tooBig.body.error.details.max },
    { field: 'resources[1]', limit: 'max_object_bytes', max: RELEASE_LIMITS.maxObjectBytes },
  );

  // just under the limit: accepted, read back in full, diffed
  const fits = await forge.api(
    'POST',
    '/releases',
    releaseBody({ project, resources: [small, big('large', 4 * 2 ** 20 - 4096)] }, sha(202)),
    ci,
  );
  assert.equal(fits.status, 201, fits.text);
  const second = await forge.api(
    'POST',
    '/releases',
    releaseBody({ project, resources: [small, big('large', 4 * 2 ** 20 - 8192)] }, sha(203)),
    ci,
  );
  assert.equal(second.status, 201, second.text);
  const back = await forge.api('GET', `/releases/acme/mono/${project}/1/resources`, undefined, dev, { accept: 'application/json' });
  assert.equal(back.status, 200, back.text.slice(0, 300));
  assert.equal(back.body[0].data.blob.length, 4 * 2 ** 20 - 4096);
  const diff = await forge.api('GET', `/releases/acme/mono/${project}/1/diff/2?format=semantic`, undefined, dev);
  assert.equal(diff.status, 200, diff.text.slice(0, 300));
  assert.deepEqual(
    diff.body.changed.map((c: { name: string; changes: { path: string }[] }) => [c.name, c.changes.map((x) => x.path)]),
    [['large', ['data.blob']]],
  );

  // object count: a List's items count, so a List cannot carry more objects than the limit
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: Array.from({ length: 5001 }, (_, i) => ({ ...small, metadata: { name: `cm-${i}` } })),
  };
  const many = await forge.api('POST', '/releases', releaseBody({ project, resources: [list] }, sha(204)), ci);
  assert.equal(many.status, 413, many.text);
  assert.equal(
    many.body.error.message,
    'a release may hold at most 5000 Kubernetes objects, this one has 5001 once its Lists are flattened',
  );
  assert.deepEqual(many.body.error.details, { field: 'resources', limit: 'max_objects', max: 5000, actual: 5001 });
});

test('the limits hold whatever the server is configured with: total size, object count, nesting', () => {
  // FORGE_MAX_RESOURCES may lower the object count, never raise it past what the readers take
  const tiny = Array.from({ length: RELEASE_LIMITS.maxObjects + 1 }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `c${i}` },
  }));
  assert.throws(() => packLayer(tiny, null, 50_000), {
    code: 'payload_too_large',
    message: `a release may hold at most ${RELEASE_LIMITS.maxObjects} Kubernetes objects, this one has ${RELEASE_LIMITS.maxObjects + 1}`,
  });
  // total size: 17 objects under the per-object limit make more than 64 MiB together
  const chunk = 'y'.repeat(4 * 2 ** 20 - 4096);
  const heavy = Array.from({ length: 17 }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `big-${i}` },
    data: { chunk },
  }));
  assert.throws(
    () => packLayer(heavy, null, 5000),
    (e: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(e.code, 'payload_too_large');
      assert.match(
        e.message,
        /^the resources are more than 67108864 bytes as YAML together \(passed at resources\[\d+\] \(ConfigMap "big-\d+"\)\)/,
      );
      assert.equal(e.details?.limit, 'max_total_bytes');
      return true;
    },
  );
  // nesting past the limit is a 400 naming the object
  let deep: Record<string, unknown> = { leaf: 'x' };
  for (let i = 0; i < RELEASE_LIMITS.maxDepth + 2; i++) deep = { d: deep };
  assert.throws(() => packLayer([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'deep' }, data: deep }], null, 5000), {
    code: 'validation_error',
    message: `invalid request: resources[0]: nested deeper than ${RELEASE_LIMITS.maxDepth} levels`,
  });
});
