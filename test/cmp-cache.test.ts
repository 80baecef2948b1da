/**
 * The plugin's disk cache (issue 19 item 4): registry bytes under their digests, each verified
 * when read (a damaged, foreign or planted file is a miss and is removed), a size bound with
 * least-recently-used eviction, stale temporary files and old-format entries go away; rendered
 * streams only sealed under a private key (RenderMemo, issue 18).
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BlobCache, RenderMemo } from '../src/cmp/cache.js';
import { tempDir } from './support/forge.js';

const work = tempDir('forge-cmp-cache-');
after(() => rmSync(work, { recursive: true, force: true }));

const blob = (c: string) => Buffer.from(`---\nkind: ConfigMap\n# ${c.repeat(400)}\n`);
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const file = (dir: string, b: Buffer) => join(dir, digestOf(b).replace(':', '-'));
/** Marks a file as used `secondsAgo` ago (mtime is the cache's record of use). */
const usedAgo = (path: string, secondsAgo: number) => utimesSync(path, new Date(), new Date(Date.now() - secondsAgo * 1000));

test('stays under its size bound by evicting the least recently used files; a hit counts as a use', async () => {
  const dir = join(work, 'lru');
  const [a, b, c] = ['a', 'b', 'c'].map(blob) as [Buffer, Buffer, Buffer];
  const cache = new BlobCache(dir, Math.floor(a.length * 2.5));
  await cache.write(digestOf(a), a);
  usedAgo(file(dir, a), 30);
  await cache.write(digestOf(b), b);
  usedAgo(file(dir, b), 20);
  assert.deepEqual(await cache.read(digestOf(a)), a, 'a hit on the older file makes it the most recent');
  await cache.write(digestOf(c), c);
  assert.deepEqual(readdirSync(dir).sort(), [file(dir, a), file(dir, c)].map((p) => p.slice(dir.length + 1)).sort(), 'b was evicted');
  assert.equal(await cache.read(digestOf(b)), undefined);
  const total = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  assert.ok(total <= cache.maxBytes, `${total} bytes held, bound ${cache.maxBytes}`);
});

test('a blob larger than the bound is not stored', async () => {
  const dir = join(work, 'small');
  const cache = new BlobCache(dir, 100);
  const d = blob('d');
  assert.equal(await cache.write(digestOf(d), d), false);
  assert.equal(await cache.read(digestOf(d)), undefined);
});

test('a damaged, truncated, foreign or wrongly sized file is a miss and is removed', async () => {
  const dir = join(work, 'damaged');
  const cache = new BlobCache(dir, 1 << 20);
  const e = blob('e');
  const f = blob('f');
  await cache.write(digestOf(e), e);
  writeFileSync(file(dir, e), Buffer.from(e.toString().replace('ConfigMap', 'Secret')));
  assert.equal(await cache.read(digestOf(e)), undefined, 'changed content');
  assert.equal(existsSync(file(dir, e)), false, 'and removed');

  await cache.write(digestOf(e), e);
  writeFileSync(file(dir, e), e.subarray(0, 50));
  assert.equal(await cache.read(digestOf(e)), undefined, 'a truncated file is a miss');

  await cache.write(digestOf(e), e);
  writeFileSync(file(dir, e), f);
  assert.equal(await cache.read(digestOf(e)), undefined, 'a file under another digest is a miss');

  await cache.write(digestOf(e), e);
  assert.equal(await cache.read(digestOf(e), e.length + 1), undefined, 'a size other than the declared one is a miss');
  assert.deepEqual(await cache.read(digestOf(f)), undefined);
});

test('a symbolic link planted in the cache is a miss; its target is neither served nor touched', async () => {
  const dir = join(work, 'planted');
  mkdirSync(dir, { recursive: true });
  const secret = join(work, 'secret.txt');
  writeFileSync(secret, 'registry-password-canary');
  const bytes = readFileSync(secret);
  symlinkSync(secret, join(dir, digestOf(bytes).replace(':', '-')));
  const cache = new BlobCache(dir, 1 << 20);
  assert.equal(await cache.read(digestOf(bytes)), undefined, 'even with the right digest: not read through a link');
  assert.equal(readFileSync(secret, 'utf8'), 'registry-password-canary');
});

test('a tag names a digest; anything else in a tag file is a miss', async () => {
  const dir = join(work, 'tags');
  const cache = new BlobCache(dir, 1 << 20);
  const digest = `sha256:${'1'.repeat(64)}`;
  await cache.writeTag('acme/mono/api', 'sha256-abc.sig', digest);
  assert.equal(await cache.readTag('acme/mono/api', 'sha256-abc.sig'), digest);
  assert.equal(await cache.readTag('acme/mono/other', 'sha256-abc.sig'), undefined, 'per repository');
  const tagFile = readdirSync(dir).find((n) => n.startsWith('tag-'))!;
  writeFileSync(join(dir, tagFile), 'not a digest');
  assert.equal(await cache.readTag('acme/mono/api', 'sha256-abc.sig'), undefined);
});

test('temporary files of dead runs and entries of older versions are removed by eviction; fresh temporary files are kept', async () => {
  const dir = join(work, 'tmp');
  const cache = new BlobCache(dir, 1 << 20);
  const a = blob('a');
  await cache.write(digestOf(a), a);
  writeFileSync(join(dir, '.tmp-1-old'), 'x');
  usedAgo(join(dir, '.tmp-1-old'), 3600);
  writeFileSync(join(dir, '.tmp-2-new'), 'x');
  writeFileSync(join(dir, `sha256-${'9'.repeat(64)}.json`), '{"version":1}');
  const b = blob('b');
  await cache.write(digestOf(b), b);
  assert.deepEqual(readdirSync(dir).sort(), ['.tmp-2-new', file(dir, a).slice(dir.length + 1), file(dir, b).slice(dir.length + 1)].sort());
});

test('the folder Forge creates is 0700 and every entry 0600, also one an older version left 0644 (issue 19, attack review D)', async () => {
  const dir = join(work, 'private', 'cache');
  const cache = new BlobCache(dir, 1_000_000);
  const a = blob('p');
  assert.equal(await cache.write(digestOf(a), a), true);
  await cache.writeTag('acme/mono', 'r1', digestOf(a));
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const name of readdirSync(dir)) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
  // An entry from an older version, readable by everyone, is made private on the next write.
  const old = blob('o');
  writeFileSync(file(dir, old), old, { mode: 0o644 });
  chmodSync(file(dir, old), 0o644);
  const b = blob('q');
  await cache.write(digestOf(b), b);
  for (const name of readdirSync(dir)) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
});

test('a sealed render (RenderMemo) is read back only under its own input and key; a tampered one is a miss and is removed', async () => {
  const dir = join(work, 'memo');
  const cache = new BlobCache(dir, 1 << 20);
  const memo = (await RenderMemo.open(cache))!;
  assert.ok(memo, 'a key is created on first use');
  assert.equal(statSync(join(dir, 'render-key')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'render-key')).size, 32);
  await memo.write('input a', '---\nkind: ConfigMap\n');
  assert.equal(await memo.read('input a'), '---\nkind: ConfigMap\n');
  assert.equal(await memo.read('input b'), undefined, 'another input');

  const again = (await RenderMemo.open(cache))!;
  assert.equal(await again.read('input a'), '---\nkind: ConfigMap\n', 'the same key next run');

  const entry = readdirSync(dir).find((n) => n.startsWith('render-') && n !== 'render-key')!;
  const sealed = readFileSync(join(dir, entry));
  writeFileSync(join(dir, entry), Buffer.concat([sealed.subarray(0, 32), Buffer.from('---\nkind: Secret\n')]));
  assert.equal(await memo.read('input a'), undefined);
  assert.equal(existsSync(join(dir, entry)), false, 'removed');

  // Under another key (a new cache folder's), nothing sealed before verifies.
  await memo.write('input a', '---\nkind: ConfigMap\n');
  rmSync(join(dir, 'render-key'));
  const other = (await RenderMemo.open(cache))!;
  assert.equal(await other.read('input a'), undefined);
});

test('a render key that is a symbolic link, or readable by others, is refused: no sealed renders', async () => {
  const dir = join(work, 'memo-key');
  mkdirSync(dir, { recursive: true });
  const target = join(work, 'memo-key-target');
  writeFileSync(target, Buffer.alloc(32, 1), { mode: 0o600 });
  symlinkSync(target, join(dir, 'render-key'));
  assert.equal(await RenderMemo.open(new BlobCache(dir, 1 << 20)), undefined);

  const open = join(work, 'memo-key-open');
  mkdirSync(open, { recursive: true });
  writeFileSync(join(open, 'render-key'), Buffer.alloc(32, 1));
  chmodSync(join(open, 'render-key'), 0o644);
  assert.equal(await RenderMemo.open(new BlobCache(open, 1 << 20)), undefined);
});
