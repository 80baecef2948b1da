/**
 * What the GitOps benches (bench/gitops.ts, bench/trains.ts) set up alike: an embedded database
 * migrated under `root`, a deploy context pushing to `remote`, and releases inserted straight
 * into the store (no registry: these benches time the GitOps side).
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_PLATFORM_CONFIG } from '../src/core/platform-config.js';
import { resolveRemote } from '../src/gitops/remote.js';
import { openDeployContext } from '../src/services/deployment-runtime.js';
import { openPglite } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import * as releases from '../src/store/releases.js';

const sha = (seed: string) => createHash('sha1').update(seed).digest('hex');

/** The database, the deploy context, and `addRelease(project, number)` (a manual release of acme/mono from main). */
export async function benchDeployments(root: string, remote: string, cacheDir: string) {
  const db = await openPglite(join(root, 'db'));
  await migrate(db);
  const ctx = await openDeployContext({
    db,
    platform: DEFAULT_PLATFORM_CONFIG,
    remote: resolveRemote({ url: remote, dataDir: root }),
    branch: 'main',
    cacheDir,
  });
  const addRelease = async (project: string, number: number) => {
    const s = sha(`bench-${project}-${number}`);
    await db.transaction(async (tx) => {
      const id = randomUUID();
      await releases.insertRelease(tx, {
        id,
        repository: 'acme/mono',
        project,
        commit_sha: s,
        release_number: number,
        oci_uri: `r/acme/mono/${project}:${s}`,
        oci_digest: `sha256:${createHash('sha256').update(s).digest('hex')}`,
        resources_digest: `sha256:${'0'.repeat(64)}`,
        created_by: 'bench',
        // on main, as a branch policy needs to admit a manual release
        source: { branches: ['main'] },
        artifacts: [],
      });
      await releases.insertTrigger(tx, id, { type: 'manual', branch: null, tag: null, triggered_by: 'bench' });
    });
  };
  return { db, ctx, addRelease };
}
