/**
 * Recovery of pending deployments (DESIGN.md §8): a replica that died mid-deployment leaves a
 * pending row whose lease stops being renewed. Any replica then claims it (one replica per row,
 * FOR UPDATE SKIP LOCKED) and completes it through the outbox by what the GitOps repository
 * holds: recorded as landed when its pointer is there, pushed when it never got there. The
 * sweep also looks at the GitOps branch tip now and then: a deployment recorded failed whose
 * pointer is live there (its push landed though the answer said otherwise, or its outcome could
 * not be recorded) becomes active (gitops-truth.ts `adoptOwnLivePointers`).
 */
import { claimExpired } from '../store/deployments.js';
import type { DeployContext } from './deployment-context.js';
import { adoptOwnLivePointers } from './gitops-truth.js';
import { completeDeployment } from './outbox.js';

/** One sweep: claims up to `limit` expired pending rows and completes them; answers how many. */
export async function recoverExpired(ctx: DeployContext, limit = 20): Promise<number> {
  const claimedAt = Date.now();
  const work = await claimExpired(ctx.db, ctx.replica, ctx.leaseMs, limit);
  for (const w of work) ctx.held.set(w.id, claimedAt);
  await Promise.all(work.map((w) => completeDeployment(ctx, w, true)));
  return work.length;
}

/** Sweeps now and then every `intervalMs` (default half a lease) until stopped; a failed sweep is reported on stderr. */
export function startRecovery(ctx: DeployContext, intervalMs = Math.max(100, Math.floor(ctx.leaseMs / 2))): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let lookedAtGit = 0;
  const sweep = () => {
    if (stopped || running) return;
    const lookAtGit = Date.now() - lookedAtGit >= Math.max(1000, ctx.leaseMs);
    if (lookAtGit) lookedAtGit = Date.now();
    const job = recoverExpired(ctx)
      .then(async () => {
        if (lookAtGit) await adoptOwnLivePointers(ctx);
      })
      .catch((err) => process.stderr.write(`deployment recovery sweep failed: ${(err as Error).message}\n`))
      .finally(() => {
        ctx.inflight.delete(job);
        running = undefined;
      });
    running = job;
    ctx.inflight.add(job);
  };
  sweep();
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
