/** A deployment setup for tests: a migrated database, a real GitOps remote, and releases inserted directly. */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_PLATFORM_CONFIG, type PlatformConfig } from '../../src/core/platform-config.js';
import { resolveRemote } from '../../src/gitops/remote.js';
import { type OpenDeployContext, openDeployContext } from '../../src/services/deployment-runtime.js';
import type { Db } from '../../src/store/db.js';
import * as releases from '../../src/store/releases.js';
import { type Engine, testDb } from './db.js';
import { makeRemote } from './gitops.js';

export const REPO = 'acme/mono';

export interface ReleaseSpec {
  project?: string;
  number: number;
  trigger?: { type: 'branch_push' | 'tag' | 'manual'; branch?: string; tag?: string };
  tags?: string[];
  /** Where the commit is, for the branch rule on tag and manual releases (issue #13 item 1); default main. */
  branches?: string[] | null;
}

export async function addRelease(db: Db, spec: ReleaseSpec) {
  const project = spec.project ?? 'api';
  const sha = createHash('sha1').update(`${project}-${spec.number}`).digest('hex');
  const id = randomUUID();
  const trigger = spec.trigger ?? { type: 'tag', tag: spec.tags?.[0] ?? `v${spec.number}` };
  await db.transaction(async (tx) => {
    await releases.insertRelease(tx, {
      id,
      repository: REPO,
      project,
      commit_sha: sha,
      release_number: spec.number,
      oci_uri: `registry.test/${REPO}/${project}:${sha}`,
      oci_digest: `sha256:${createHash('sha256').update(sha).digest('hex')}`,
      resources_digest: `sha256:${'0'.repeat(64)}`,
      created_by: 'ci',
      source: { branches: trigger.type === 'branch_push' ? null : spec.branches === undefined ? ['main'] : spec.branches },
      artifacts: [],
    });
    const tags = spec.tags ?? (trigger.type === 'tag' ? [trigger.tag!] : []);
    await releases.insertAliases(
      tx,
      { id, repository: REPO, project },
      tags.map((alias) => ({ alias, alias_type: 'tag' as const })),
    );
    await releases.insertTrigger(tx, id, {
      type: trigger.type,
      branch: trigger.branch ?? null,
      tag: trigger.tag ?? null,
      triggered_by: 'ci',
    });
  });
  return (await releases.findById(db, id))!;
}

export async function deploySetup(
  engine: Engine,
  opts: { platform?: PlatformConfig; leaseMs?: number; seed?: Record<string, string> } = {},
) {
  const { db, url, cleanup: dropDb } = await testDb(engine);
  const { root, remote, cleanup: dropRepo } = makeRemote(opts.seed ?? { 'README.md': 'gitops\n', 'dev/env.yaml': 'env\n' });
  const contexts: OpenDeployContext[] = [];
  const open = async (name = 'cache', faults = {}) => {
    const ctx = await openDeployContext({
      db,
      platform: opts.platform ?? DEFAULT_PLATFORM_CONFIG,
      remote: resolveRemote({ url: remote, dataDir: root }),
      branch: 'main',
      cacheDir: join(root, name),
      leaseMs: opts.leaseMs,
      faults,
    });
    contexts.push(ctx);
    return ctx;
  };
  const ctx = await open();
  return {
    db,
    url,
    root,
    remote,
    ctx,
    open,
    cleanup: async () => {
      for (const c of contexts) await c.close();
      await dropDb();
      dropRepo();
    },
  };
}

export const operator = { subject: 'olga@acme.test', roles: ['operator'] };
export const who = (subject: string, ...roles: string[]) => ({ subject, roles });
