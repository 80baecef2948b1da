/**
 * Two `forge serve` replicas on one fresh PostgreSQL database and one GitOps remote, sharing
 * one token key: what the multi-replica tests start alike. Everything is torn down after the
 * test.
 */
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freshPostgres } from './db.js';
import { spawnForge, tempDir } from './forge.js';
import { makeRemote } from './gitops.js';

export interface ReplicaPairOptions {
  /** The GitOps repository's first commit (default: a README). */
  files?: Record<string, string>;
  /** Settings of both replicas, besides FORGE_GITOPS_URL. */
  env?: Record<string, string>;
  /** Settings of replica A only (a fault it is to be killed in). */
  envA?: Record<string, string>;
  /** A is SIGKILLed at the end instead of stopped (a test kills it anyway). */
  killA?: boolean;
}

export async function replicaPair(t: TestContext, opts: ReplicaPairOptions = {}) {
  const repo = makeRemote(opts.files ?? { 'README.md': 'x\n' });
  const pg = await freshPostgres();
  const keyFile = join(tempDir(), 'token.key');
  const env = { FORGE_GITOPS_URL: repo.remote, ...opts.env };
  const a = await spawnForge({ databaseUrl: pg.url, tokenKeyFile: keyFile, env: { ...env, ...opts.envA } });
  const b = await spawnForge({ databaseUrl: pg.url, tokenKeyFile: keyFile, env });
  t.after(async () => {
    if (opts.killA) await a.kill('SIGKILL');
    else await a.stop();
    await b.stop();
    await pg.drop();
    repo.cleanup();
  });
  return { repo, a, b };
}
