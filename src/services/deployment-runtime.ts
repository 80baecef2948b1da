/**
 * The deployment machinery of one replica, opened at start (DESIGN.md §8, §14): the GitOps
 * writer (taking turns at the remote with the other replicas, confirming leases before each
 * push), the lease renewal timer and, for `forge serve`, the recovery sweep. Called from the
 * server's composition root with typed settings; reads no environment.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { auditHeadTrailer } from '../core/audit-anchor.js';
import { ForgeError } from '../core/errors.js';
import type { PlatformConfig } from '../core/platform-config.js';
import { type GitOpsRemote, initEmbeddedRemote, type RemoteSettings, resolveRemote } from '../gitops/remote.js';
import { GitOpsWriter, type WriterOptions } from '../gitops/writer.js';
import { auditHead } from '../store/audit.js';
import { type Db, isLockTimeout } from '../store/db.js';
import { lockSubject } from '../store/lock-keys.js';
import type { DeployContext } from './deployment-context.js';
import { compareWithGit } from './gitops-truth.js';
import { prepareHeld, startLeaseRenewal } from './outbox.js';
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
  /** The Retry-After (seconds) of a 503 when the GitOps turn could not be had within the database's lock_timeout (default 5). */
  turnRetryAfterSeconds?: number;
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
  // The writer needs the context (its `prepare` re-checks each deployment) and the context the
  // writer: `ctx` is filled in right after the writer opens, before anything is submitted.
  let ctx: DeployContext | undefined;
  const gitops = await GitOpsWriter.open({
    remote: opts.remote,
    branch: opts.branch,
    cacheDir: opts.cacheDir,
    author: opts.author ?? 'Forge <forge@localhost>',
    retry: opts.retry,
    // Replicas on one PostgreSQL take turns at the remote (PGlite means one process: nothing to
    // share). The transaction holding the turn is the session the re-check before the push runs
    // in: the rows it renews stay locked until the push ends.
    lockRemote:
      opts.db.kind === 'postgres'
        ? (attempt) =>
            opts.db.transaction(async (tx) => {
              // A holder that stalls (frozen, cut off) is ended by the pool's
              // idle_in_transaction_session_timeout; a waiter gives up at its lock_timeout with a
              // 503 rather than hanging (issue #12). Git's compare-and-swap keeps either outcome true.
              await lockSubject(tx, 'gitopsRemote', `gitops:${opts.remote.url}`).catch((err: unknown) => {
                if (!isLockTimeout(err)) throw err;
                throw new ForgeError(
                  'gitops_unavailable',
                  `another replica has held the turn at the GitOps repository ${opts.remote.display} for longer than this server waits (FORGE_DATABASE_LOCK_WAIT_MS); nothing was pushed: retry later`,
                  { retry_after_seconds: opts.turnRetryAfterSeconds ?? 5 },
                );
              });
              return attempt(tx);
            })
        : undefined,
    prepare: (base, items, session) => prepareHeld(ctx!, base, items, session),
    // Every commit anchors the audit chain's committed head (issue 13 item 8). PGlite is one
    // connection: inside a turn that holds a transaction, read through it.
    trailers: async (session) => {
      const head = await auditHead(opts.db.kind === 'postgres' || !session ? opts.db : (session as Db));
      return head ? [auditHeadTrailer(head)] : [];
    },
  });
  ctx = {
    ...leases,
    platform: opts.platform,
    gitops,
    inflight: new Set(),
    faults: { pauseBeforePushMs: 0, pauseAfterPushMs: 0, ...opts.faults },
  };
  const opened = ctx;
  const stopRenewal = startLeaseRenewal(opened);
  return Object.assign(opened, {
    async close() {
      stopRenewal();
      while (opened.inflight.size) await Promise.allSettled([...opened.inflight]);
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
  /** PostgreSQL's idle_in_transaction_session_timeout, ms: a stalled holder of the GitOps turn is ended within it, so it is the Retry-After of a turn not had. */
  databaseIdleTransactionMs?: number;
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
    turnRetryAfterSeconds: settings.databaseIdleTransactionMs ? Math.ceil(settings.databaseIdleTransactionMs / 1000) : undefined,
    faults: { pauseBeforePushMs: settings.faults.pauseBeforeGitopsPushMs, pauseAfterPushMs: settings.faults.pauseAfterGitopsPushMs },
  });
  await reportOrphans(ctx);
  const stopRecovery = startRecovery(ctx);
  const close = ctx.close;
  return Object.assign(ctx, {
    close: async () => {
      await stopRecovery();
      await close();
    },
  });
}

/**
 * Start-up names what the platform config no longer covers (issue #12 item 4): environments
 * removed or renamed while deployments exist there, with their pointers in the GitOps
 * repository (Argo CD keeps running them), on stderr. An unreachable remote is reported too,
 * and does not stop the server.
 */
async function reportOrphans(ctx: DeployContext): Promise<void> {
  try {
    const known = new Set(ctx.platform.environments.map((e) => e.name));
    const orphans = (await compareWithGit(ctx, (environment) => !known.has(environment))).disagreements.filter((d) => d.orphaned);
    for (const env of [...new Set(orphans.map((o) => o.environment))]) {
      const here = orphans.filter((o) => o.environment === env);
      process.stderr.write(
        `warning: environment "${env}" is not in the platform config, but ${here.length} deployment${here.length === 1 ? '' : 's'} of it remain${here.length === 1 ? 's' : ''}: ${here
          .map((o) => `${o.path}${o.git && o.git !== 'invalid' ? ` (release ${o.git.releaseNumber})` : ''}`)
          .join(', ')}; Argo CD keeps running them. "forge doctor" lists them.\n`,
      );
    }
  } catch (err) {
    process.stderr.write(`warning: could not compare the GitOps repository with the database at start-up: ${(err as Error).message}\n`);
  }
}
