/** Numbering and idempotency under concurrency across two server processes on one PostgreSQL (issue 2, acceptance 2). */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freshPostgres } from './support/db.js';
import { type ForgeProcess, releaseBody, sha, spawnForge, tempDir } from './support/forge.js';
import { startRegistry } from './support/registry.js';

let servers: ForgeProcess[] = [];
let registry: Awaited<ReturnType<typeof startRegistry>>;
let drop: () => Promise<void>;
let ci: string;

before(async () => {
  registry = await startRegistry();
  const pgdb = await freshPostgres();
  drop = pgdb.drop;
  const tokenKeyFile = `${tempDir()}/token-key`;
  servers = await Promise.all([0, 1].map(() => spawnForge({ databaseUrl: pgdb.url, registry: registry.host, tokenKeyFile })));
  ci = await servers[0].token(['service-account'], 'ci@example.com');
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await registry.destroy();
  await drop();
});

test('40 concurrent creations of 40 commits on two replicas get exactly 1..40', async () => {
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => servers[i % 2].api('POST', '/releases', releaseBody({ project: 'numbered' }, sha(1000 + i)), ci)),
  );
  for (const r of results) assert.equal(r.status, 201, r.text);
  const numbers = results.map((r) => r.body.release_number).sort((a, b) => a - b);
  assert.deepEqual(
    numbers,
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
});

test('20 concurrent creations of one commit give one release: one 201, the others 200 with the same id', async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => servers[i % 2].api('POST', '/releases', releaseBody({ project: 'same-commit' }, sha(7)), ci)),
  );
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [...Array(19).fill(200), 201].sort());
  assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
  assert.equal(results[0].body.release_number, 1);
});
