/** One server per embedded data directory (issue 2, acceptance 9). */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { releaseBody, runCli, spawnForge, tempDir } from './support/forge.js';

test('a second forge serve on the same data dir exits non-zero naming the holder; nothing is lost', async () => {
  const dataDir = tempDir();
  const first = await spawnForge({ dataDir });
  try {
    const ci = await first.token(['service-account']);
    assert.equal((await first.api('POST', '/releases', releaseBody(), ci)).status, 201);
    const second = await runCli(['serve', '--port', '0', '--data-dir', dataDir], { env: { FORGE_LOG: 'off' } });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`in use by process ${first.proc.pid}`));
    const still = await first.api('GET', '/releases/acme/mono/auth-service/1', undefined, ci);
    assert.equal(still.status, 200, 'the first server keeps serving its data');
  } finally {
    await first.stop();
  }
  const restarted = await spawnForge({ dataDir });
  try {
    const ci = await restarted.token(['developer']);
    assert.equal((await restarted.api('GET', '/releases/acme/mono/auth-service/1', undefined, ci)).status, 200, 'the release survived');
  } finally {
    await restarted.kill('SIGKILL');
  }
  const afterCrash = await spawnForge({ dataDir });
  await afterCrash.stop(); // a lock left by a killed server is taken over
});
