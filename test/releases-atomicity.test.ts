/** All or nothing (issue 2, acceptance 6): registry down, and a server killed between push and commit. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ENGINES, freshPostgres } from './support/db.js';
import { releaseBody, sha, spawnForge, startForge, tempDir } from './support/forge.js';
import { startRegistry } from './support/registry.js';

for (const engine of ENGINES) {
  test(`registry down: 503 registry_unavailable, no row, no number consumed (${engine})`, async (t) => {
    const registry = await startRegistry();
    const pgdb = engine === 'postgres' ? await freshPostgres() : undefined;
    const forge = await startForge({ registry: registry.host, databaseUrl: pgdb?.url });
    t.after(async () => {
      await forge.stop();
      await registry.destroy();
      await pgdb?.drop();
    });
    const ci = await forge.token(['service-account']);
    await registry.stop();
    const failed = await forge.api('POST', '/releases', releaseBody({ project: 'down' }, sha(1)), ci);
    assert.equal(failed.status, 503, failed.text);
    assert.equal(failed.body.error.code, 'registry_unavailable');
    assert.equal((await forge.api('GET', '/releases/acme/mono/down', undefined, ci)).body.total, 0);
    await registry.start();
    const ok = await forge.api('POST', '/releases', releaseBody({ project: 'down' }, sha(2)), ci);
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.release_number, 1, 'the failed attempt consumed no number');
  });

  test(`server SIGKILLed between push and commit leaves no row; the retry succeeds (${engine})`, async (t) => {
    const registry = await startRegistry();
    const pgdb = engine === 'postgres' ? await freshPostgres() : undefined;
    const dataDir = tempDir();
    t.after(async () => {
      await registry.destroy();
      await pgdb?.drop();
    });
    // The pause is a fault hook: nothing else holds a server still between the push and the commit.
    const doomed = await spawnForge({
      dataDir,
      registry: registry.host,
      databaseUrl: pgdb?.url,
      env: { FORGE_FAULT_PAUSE_AFTER_PUSH_MS: '60000' },
    });
    const ci = await doomed.token(['service-account']);
    const body = releaseBody({ project: 'killed' }, sha(9));
    const pending = doomed.api('POST', '/releases', body, ci).catch((e: Error) => e);
    const manifestUrl = `http://${registry.host}/v2/acme/mono/killed/manifests/${sha(9)}`;
    for (let i = 0; ; i++) {
      const res = await fetch(manifestUrl, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      if (res.status === 200) break;
      assert.ok(i < 600, 'the image was never pushed');
      await new Promise((r) => setTimeout(r, 50));
    }
    await doomed.kill('SIGKILL');
    assert.ok((await pending) instanceof Error, 'the request died with the server');

    const revived = await spawnForge({ dataDir, registry: registry.host, databaseUrl: pgdb?.url });
    t.after(() => revived.stop());
    assert.equal((await revived.api('GET', '/releases/acme/mono/killed', undefined, ci)).body.total, 0, 'no release row');
    const retry = await revived.api('POST', '/releases', body, ci);
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.body.release_number, 1);
  });
}
