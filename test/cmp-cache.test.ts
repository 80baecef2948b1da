/** The plugin's disk cache: size bound with least-recently-used eviction, damaged entries are misses, stale temporary files go away. */

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ResourceCache } from '../src/cmp/cache.js';
import { tempDir } from './support/forge.js';

const work = tempDir('forge-cmp-cache-');
after(() => rmSync(work, { recursive: true, force: true }));

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const release = (c: string) => ({
  repository: 'acme/mono',
  project: 'auth-service',
  sha: c.repeat(40),
  releaseNumber: 1,
  stream: `---\nkind: ConfigMap\n# ${c.repeat(400)}\n`,
});
const file = (dir: string, c: string) => join(dir, `sha256-${c.repeat(64)}.json`);
/** Marks an entry as used `secondsAgo` ago (mtime is the cache's record of use). */
const usedAgo = (path: string, secondsAgo: number) => utimesSync(path, new Date(), new Date(Date.now() - secondsAgo * 1000));

test('stays under its size bound by evicting the least recently used entries; a hit counts as a use', async () => {
  const dir = join(work, 'lru');
  const probe = new ResourceCache(dir, 1 << 20);
  await probe.put(digest('a'), release('a'));
  const entrySize = statSync(file(dir, 'a')).size;
  const cache = new ResourceCache(dir, Math.floor(entrySize * 2.5));
  usedAgo(file(dir, 'a'), 30);
  await cache.put(digest('b'), release('b'));
  usedAgo(file(dir, 'b'), 20);
  assert.deepEqual((await cache.get(digest('a')))?.stream, release('a').stream, 'a hit on the older entry makes it the most recent');
  await cache.put(digest('c'), release('c'));
  assert.deepEqual(
    readdirSync(dir).sort(),
    [`sha256-${'a'.repeat(64)}.json`, `sha256-${'c'.repeat(64)}.json`],
    'b, the least recently used, was evicted',
  );
  assert.equal(await cache.get(digest('b')), undefined);
  const total = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  assert.ok(total <= cache.maxBytes, `${total} bytes held, bound ${cache.maxBytes}`);
});

test('an entry larger than the bound is not stored', async () => {
  const dir = join(work, 'small');
  const cache = new ResourceCache(dir, 100);
  assert.equal(await cache.put(digest('d'), release('d')), false);
  assert.equal(await cache.get(digest('d')), undefined);
});

test('a damaged or foreign entry is a miss and is removed', async () => {
  const dir = join(work, 'damaged');
  const cache = new ResourceCache(dir, 1 << 20);
  await cache.put(digest('e'), release('e'));
  const path = file(dir, 'e');
  const entry = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...entry, stream: entry.stream.replace('ConfigMap', 'Secret') }));
  assert.equal(await cache.get(digest('e')), undefined);
  assert.deepEqual(readdirSync(dir), []);

  await cache.put(digest('e'), release('e'));
  writeFileSync(path, readFileSync(path, 'utf8').slice(0, 50));
  assert.equal(await cache.get(digest('e')), undefined, 'a truncated file is a miss');

  await cache.put(digest('f'), release('f'));
  writeFileSync(file(dir, 'e'), readFileSync(file(dir, 'f')));
  assert.equal(await cache.get(digest('e')), undefined, 'an entry filed under another digest is a miss');
});

test('temporary files of dead runs are removed by eviction; fresh ones (a run in progress) are kept', async () => {
  const dir = join(work, 'tmp');
  const cache = new ResourceCache(dir, 1 << 20);
  await cache.put(digest('a'), release('a'));
  writeFileSync(join(dir, '.tmp-1-old'), 'x');
  usedAgo(join(dir, '.tmp-1-old'), 3600);
  writeFileSync(join(dir, '.tmp-2-new'), 'x');
  await cache.put(digest('b'), release('b'));
  assert.deepEqual(readdirSync(dir).sort(), ['.tmp-2-new', `sha256-${'a'.repeat(64)}.json`, `sha256-${'b'.repeat(64)}.json`]);
});
