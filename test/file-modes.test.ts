/**
 * Local files are the server's alone (issue 19 item 6): after a server has run — PGlite's
 * database files, the token and signing keys, the OCI layout, the lock — every file under the
 * data directory is 0600 and every folder 0700, including files the libraries created. A data
 * directory an older version left open (files 0666, folders 0755) is closed at start.
 */

import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { releaseBody, runCli, spawnForge, tempDir } from './support/forge.js';

/** Every entry under `dir` that group or others may use, or a folder that is not 0700. */
function loose(dir: string): string[] {
  const out: string[] = [];
  const stack = [dir];
  let seen = 0;
  while (stack.length) {
    const path = stack.pop()!;
    const st = lstatSync(path);
    seen++;
    if (st.isSymbolicLink()) continue;
    // Nothing for group or others; folders 0700 (a file keeps its owner's bits: a git object is 0400, a hook 0700).
    if (st.mode & 0o077 || (st.isDirectory() && (st.mode & 0o777) !== 0o700)) out.push(`${path} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const n of readdirSync(path)) stack.push(join(path, n));
  }
  assert.ok(seen > 20, `the data directory holds files (${seen})`);
  return out;
}

test('every file and folder the server and its libraries create in the data directory is private', async () => {
  const dataDir = tempDir();
  const forge = await spawnForge({ dataDir });
  try {
    const ci = await forge.token(['service-account']);
    assert.equal((await forge.api('POST', '/releases', releaseBody(), ci)).status, 201);
    assert.deepEqual(loose(dataDir), []);
  } finally {
    await forge.stop();
  }
  assert.deepEqual(loose(dataDir), [], 'after a clean stop too');
});

test('a data directory left open by an older version is closed at start', async () => {
  const dataDir = tempDir();
  const first = await spawnForge({ dataDir });
  await first.stop();
  // What an older version (or a careless restore) left: world-writable files, open folders.
  const stack = [dataDir];
  while (stack.length) {
    const p = stack.pop()!;
    const st = lstatSync(p);
    chmodSync(p, st.isDirectory() ? 0o777 : st.mode & 0o100 ? 0o777 : 0o666);
    if (st.isDirectory()) for (const n of readdirSync(p)) stack.push(join(p, n));
  }
  mkdirSync(join(dataDir, 'extra'), { mode: 0o755 });
  writeFileSync(join(dataDir, 'extra', 'note'), 'x', { mode: 0o644 });
  const second = await spawnForge({ dataDir });
  try {
    assert.deepEqual(loose(dataDir), []);
  } finally {
    await second.stop();
  }
});

test('forge token create with a data directory that does not exist yet makes it private (0700), its key 0600', async () => {
  const parent = tempDir();
  const dataDir = join(parent, 'new', 'data');
  const r = await runCli(['token', 'create', '--subject', 'ops@example.com', '--role', 'operator', '--data-dir', dataDir, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  for (const dir of [join(parent, 'new'), dataDir]) assert.equal(lstatSync(dir).mode & 0o777, 0o700, dir);
  for (const name of readdirSync(dataDir)) assert.equal(lstatSync(join(dataDir, name)).mode & 0o077, 0, name);
});
