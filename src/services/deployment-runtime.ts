/**
 * The deployment machinery of one replica, opened at start (DESIGN.md §8, §14): the GitOps
 * writer (taking turns at the remote with the other replicas, confirming leases before each
 * push), the lease renewal timer and, for `forge serve`, the recovery sweep. Called from the
 * server's composition root with typed settings; reads no environment.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { PlatformConfig } from '../core/platform-config.js';
import { type GitOpsRemote, initEmbeddedRemote, type RemoteSettings, resolveRemote } from '../gitops/remote.js';
import { GitOpsWriter, type WriterOptions } from '../gitops/writer.js';
import type { Db } from '../store/db.js';
import { lockSubject } from '../store/lock-keys.js';
import type { DeployContext } from './deployment-context.js';
import { confirmHeld, startLeaseRenewal } from './outbox.js';
import { startRecovery } from './recovery.js';

export interface DeployContextOptions {
  db: Db;
  platform: PlatformConfig;
  remote: GitOpsRemote;
  branch: string;
  /** Where the bare clone of the GitOps repository is kept. */
  cacheDir: string;
  /** Commit author, `Name <email>` (default `Forge <forge@localhost>`). */
  author?: string;
  /** Lease on a pending deployment, ms (default 30 s). */
  leaseMs?: number;
  retry?: WriterOptions['retry'];
  faults?: Partial<DeployContext['faults']>;
}

export type OpenDeployContext = DeployContext & { close: () => Promise<void> };

/**
 * A replica's deployment context: the GitOps writer and a timer renewing the leases of the
 * deployments it is completing. `close` stops both after the background work ends.
 */
export async function openDeployContext(opts: DeployContextOptions): Promise<OpenDeployContext> {
  const leases = {
    db: opts.db,
    replica: `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
    leaseMs: opts.leaseMs ?? 30_000,
    held: new Map<string, number>(),
  };
  const gitops = await GitOpsWriter.open({
    remote: opts.remote,
    branch: opts.branch,
    cacheDir: opts.cacheDir,
    author: opts.author ?? 'Forge <forge@localhost>',
    retry: opts.retry,
    // Replicas on one PostgreSQL take turns at the remote (PGlite means one process: nothing to share).
    lockRemote:
      opts.db.kind === 'postgres'
        ? (attempt) =>
            opts.db.transaction(async (tx) => {
              await lockSubject(tx, 'gitopsRemote', `gitops:${opts.remote.url}`);
              return attempt();
            })
        : undefined,
    confirm: (ids) => confirmHeld(leases, ids),
  });
  const ctx: DeployContext = {
    ...leases,
    platform: opts.platform,
    gitops,
    inflight: new Set(),
    faults: { pauseBeforePushMs: 0, pauseAfterPushMs: 0, ...opts.faults },
  };
  const stopRenewal = startLeaseRenewal(ctx);
  return Object.assign(ctx, {
    async close() {
      stopRenewal();
      while (ctx.inflight.size) await Promise.allSettled([...ctx.inflight]);
      await gitops.close();
    },
  });
}

/** What `forge serve` settings (src/server/settings.ts) give the deployment machinery. */
export interface DeploymentSettings {
  dataDir: string;
  /** The platform config, validated at load. */
  platform: PlatformConfig;
  gitopsBranch: string;
  /** The GitOps remote; no `url` = an embedded bare repository under the data directory. */
  gitopsRemote: RemoteSettings;
  /** Commit author, `Name <email>`. */
  gitopsAuthor: string;
  gitopsPushAttempts: number;
  /** Lease on a pending deployment, ms. */
  deployLeaseMs: number;
  faults: { pauseBeforeGitopsPushMs: number; pauseAfterGitopsPushMs: number };
}

/**
 * The deployment machinery of `forge serve` (DESIGN.md §14): the GitOps remote (the embedded
 * bare repository is created when no remote is named), the deployment context and the recovery
 * sweep. `close` stops the sweep and waits for work in flight.
 */
export async function openServerDeployments(settings: DeploymentSettings, db: Db): Promise<OpenDeployContext> {
  const remote = resolveRemote(settings.gitopsRemote);
  if (!settings.gitopsRemote.url) initEmbeddedRemote(remote.url, settings.gitopsBranch);
  const ctx = await openDeployContext({
    db,
    platform: settings.platform,
    remote,
    branch: settings.gitopsBranch,
    cacheDir: join(settings.dataDir, 'gitops-cache'),
    author: settings.gitopsAuthor,
    leaseMs: settings.deployLeaseMs,
    retry: { attempts: settings.gitopsPushAttempts },
    faults: { pauseBeforePushMs: settings.faults.pauseBeforeGitopsPushMs, pauseAfterPushMs: settings.faults.pauseAfterGitopsPushMs },
  });
  const stopRecovery = startRecovery(ctx);
  const close = ctx.close;
  return Object.assign(ctx, {
    close: async () => {
      await stopRecovery();
      await close();
    },
  });
}
