/**
 * The loop that closes what notifications may leave open (issue 15), run by every replica:
 *   - pull: with FORGE_ARGOCD_URL and a token, GET /api/v1/applications and ingest every
 *     Application whose source is Forge's GitOps repository (`repoUrl`, compared as
 *     normalizeRepoUrl does: Argo CD's own `repo` query compares the first source's URL exactly,
 *     so it would miss a multi-source Application or another spelling of the URL; the others
 *     are ignored and counted), so a lost notification is caught up. The answer is read as it
 *     streams and abandoned at MAX_POLL_BYTES. Argo CD down, slow or answering nonsense is logged once per
 *     change of state and tried again at the next tick; nothing else waits on it.
 *   - gates: refused auto-deploys that wait only on a verification gate go out once it is met
 *     (`releaseGatedAutoDeploys`); each is claimed once in the database, so one replica sends it.
 *   - rollbacks: a failure whose automatic rollback was never claimed (the replica that saw it
 *     died) is considered again.
 * Correctness comes from the database (claims, the slot lock), never from this process's memory.
 */
import { type ApplicationFacts, parseApplication } from '../core/argocd-application.js';
import { findEnvironment } from '../core/platform-config.js';
import { BodyTooLargeError, readBodyCapped } from '../http/response-body.js';
import { argocdPolls } from '../observability/metrics.js';
import * as outcomes from '../store/cluster-outcomes.js';
import * as deployments from '../store/deployments.js';
import * as releases from '../store/releases.js';
import { considerAutoRollback } from './argocd-auto-rollback.js';
import { ingestFacts } from './argocd-ingest.js';
import { AUTO_DEPLOY_ACTOR } from './auto-deploy.js';
import type { DeployContext } from './deployment-context.js';
import { decideDeployment } from './deployment-policy.js';
import { completeDeployment, recordPending } from './outbox.js';

export interface ArgocdSettings {
  /** FORGE_ARGOCD_URL: Argo CD's API server, e.g. https://argocd.example.com; unset = push only. */
  url?: string;
  /** FORGE_ARGOCD_TOKEN or the file named by FORGE_ARGOCD_TOKEN_FILE: a bearer token that may list applications. */
  token?: string;
  /** FORGE_ARGOCD_POLL_MS: the loop's period, ms (default 30 000). */
  pollMs: number;
  /** Per-request timeout of the Argo CD API, ms (FORGE_ARGOCD_TIMEOUT_MS, default 10 000). */
  timeoutMs: number;
  /**
   * FORGE_ARGOCD_REPO_URL (default FORGE_GITOPS_URL; with the embedded repository, its path):
   * Forge's GitOps repository as Argo CD's Applications name it in `repoURL`. Only Applications
   * with a source in it count, pushed or polled.
   */
  repoUrl: string;
}

/** The actor of events a poll ingested (a notification's are the posting token's subject). */
export const ARGOCD_POLL_ACTOR = 'forge:argocd-poll';

/** Largest poll answer, bytes: the read stops there, the answer is refused, not parsed. */
export const MAX_POLL_BYTES = 64 * 1024 * 1024;

/**
 * The body of `res` as text, read as it streams: past `max` bytes the read is cancelled (the
 * connection dropped) and this throws, so an endless or huge answer never fills the memory.
 */
async function readCapped(res: Response, max: number): Promise<string> {
  try {
    return (await readBodyCapped(res, max)).toString('utf8');
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    throw new Error(
      err.announced
        ? `the application list is ${err.bytes} bytes, more than the ${max} bytes read at most: not read`
        : `the application list is larger than ${max} bytes: the read was stopped at that size`,
    );
  }
}

/**
 * One poll: the Applications Argo CD lists, each ingested (invalid ones skipped). Answers how
 * many were ingested; throws when Argo CD cannot be read (the caller logs and tries later).
 */
export async function pollArgocd(
  ctx: DeployContext,
  s: ArgocdSettings,
  maxBytes = MAX_POLL_BYTES,
): Promise<{ ingested: number; skipped: number }> {
  const url = new URL('/api/v1/applications', s.url);
  const res = await fetch(url, {
    headers: { accept: 'application/json', ...(s.token ? { authorization: `Bearer ${s.token}` } : {}) },
    redirect: 'manual',
    signal: AbortSignal.timeout(s.timeoutMs),
  });
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`GET ${url.pathname} answered ${res.status}`);
  }
  const text = await readCapped(res, maxBytes);
  const list = JSON.parse(text) as { items?: unknown };
  if (list.items !== undefined && list.items !== null && !Array.isArray(list.items)) throw new Error('the answer has no items list');
  const apps: ApplicationFacts[] = [];
  let skipped = 0;
  for (const item of (list.items as unknown[] | null | undefined) ?? []) {
    const parsed = parseApplication(item);
    if (parsed.ok) apps.push(parsed.app);
    else skipped++;
  }
  for (const app of apps) await ingestFacts(ctx, app, 'poll', { repoUrl: s.repoUrl, actor: ARGOCD_POLL_ACTOR });
  return { ingested: apps.length, skipped };
}

/**
 * Sends the auto-deploys that were refused only by a verification gate and whose gate is now
 * met; drops those that another rule now refuses (a pin, a freeze) or that became pointless.
 * Answers the ids of the deployments sent. Each refused auto-deploy is released at most once,
 * by the replica whose claim wins.
 */
export async function releaseGatedAutoDeploys(ctx: DeployContext, limit = 50): Promise<string[]> {
  const sent: string[] = [];
  for (const w of await outcomes.waitingOnGates(ctx.db, limit)) {
    const env = findEnvironment(ctx.platform, w.environment);
    const release = await releases.findById(ctx.db, w.release_id);
    if (!env || !release) {
      if (await outcomes.claimGateRelease(ctx.db, w.id)) await outcomes.finishGateRelease(ctx.db, w.id, null);
      continue;
    }
    const current = await deployments.activeDeployment(ctx.db, env.name, release.repository, release.project);
    const decision = current?.release_id === release.id ? undefined : await decideDeployment(ctx, env, release, AUTO_DEPLOY_ACTOR, true);
    const stillGated = decision && !decision.allowed && decision.checks.every((c) => c.ok || c.name === 'verification');
    if (stillGated) continue;
    if (!(await outcomes.claimGateRelease(ctx.db, w.id))) continue;
    if (!decision?.allowed) {
      await outcomes.finishGateRelease(ctx.db, w.id, null);
      continue;
    }
    const work = await recordPending(ctx, { kind: 'auto', environment: env.name, release, actor: AUTO_DEPLOY_ACTOR, decision, current });
    await outcomes.finishGateRelease(ctx.db, w.id, work.id);
    await completeDeployment(ctx, work);
    sent.push(work.id);
  }
  return sent;
}

/** Re-considers failures, still within their environment's window, whose automatic rollback nobody claimed. */
export async function sweepUnclaimedFailures(ctx: DeployContext, limit = 20): Promise<void> {
  for (const env of ctx.platform.environments) {
    const rule = env.policy.autoRollback;
    if (!rule) continue;
    for (const f of await outcomes.unclaimedFailures(ctx.db, env.name, rule.withinMs, limit)) {
      const d = await deployments.getDeployment(ctx.db, f.id);
      if (d) await considerAutoRollback(ctx, d, f.cause);
    }
  }
}

/** Starts the loop; answers the function that stops it (awaiting the tick under way). */
export function startArgocdLoop(ctx: DeployContext, s: ArgocdSettings, log: (line: string) => void): () => Promise<void> {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let argocdDown: string | null = null;
  const tick = async () => {
    if (s.url) {
      try {
        const r = await pollArgocd(ctx, s);
        argocdPolls.inc({ outcome: 'ok' });
        if (argocdDown !== null) log(`argocd: ${s.url} answers again (${r.ingested} applications)`);
        argocdDown = null;
      } catch (err) {
        argocdPolls.inc({ outcome: 'unavailable' });
        const why = (err as Error).message;
        if (argocdDown !== why) log(`argocd: cannot poll ${s.url}: ${why}; trying again every ${s.pollMs} ms`);
        argocdDown = why;
      }
    }
    for (const step of [releaseGatedAutoDeploys, sweepUnclaimedFailures]) {
      try {
        await step(ctx);
      } catch (err) {
        log(`argocd: ${step.name} failed: ${(err as Error).message}; trying again at the next tick`);
      }
    }
  };
  let busy = false;
  const timer = setInterval(() => {
    if (stopped || busy) return; // a slow tick is not stacked on
    busy = true;
    running = tick().finally(() => {
      busy = false;
    });
  }, s.pollMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
