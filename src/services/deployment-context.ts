/**
 * What the deployment use cases share in one replica (DESIGN.md §8): the database, the platform
 * config, the GitOps writer and this replica's leases. Only the shape lives here; it is opened
 * by deployment-runtime.ts.
 */
import type { PlatformConfig } from '../core/platform-config.js';
import type { GitOpsWriter } from '../gitops/writer.js';
import type { Db } from '../store/db.js';

export interface DeployContext {
  db: Db;
  platform: PlatformConfig;
  gitops: GitOpsWriter;
  /** This process's identity as a lease owner. */
  replica: string;
  /** How long a lease on a pending deployment lasts, ms. */
  leaseMs: number;
  /**
   * Pending deployments this process is completing, with when (local clock, ms, taken before the
   * query) their lease was last granted or renewed; renewed on a timer while here.
   */
  held: Map<string, number>;
  /** Background completions (auto-deploys, recovery), awaited on close. */
  inflight: Set<Promise<unknown>>;
  /**
   * Test-only fault injection (settings `faults.pauseBeforeGitopsPushMs` / `pauseAfterGitopsPushMs`):
   * a pause, ms, before the pointer push or before recording its outcome, so a test can kill the
   * process at that point. A crash there cannot be provoked otherwise.
   */
  faults: { pauseBeforePushMs: number; pauseAfterPushMs: number };
}

/** What approvals, target checks and read models need: no git. */
export type PlatformContext = Pick<DeployContext, 'db' | 'platform'>;
