/**
 * Webhook delivery (issue 6): every replica runs this loop. It never runs inside an operation,
 * so a slow or failing receiver cannot block or fail a release or a deployment:
 *   1. fan-out: audit entries after the cursor become deliveries for the receivers that want
 *      them (one replica at a time; the cursor row is claimed with SKIP LOCKED);
 *   2. delivery: due rows are claimed with SKIP LOCKED and a lease, POSTed with an HMAC-SHA256
 *      signature over `<X-Forge-Timestamp>.<body>` (the attempt's time), and the outcome logged per attempt; failures are retried with doubling,
 *      jittered delays until the receiver's max_attempts, then marked failed.
 * A receiver gets only the events recorded after it was first configured (its subscription,
 * store/webhooks.ts ensureSubscriptions): turning webhooks on never replays history.
 * Delivery is at least once (a replica dying after the POST and before recording it means a
 * second POST after the lease): receivers deduplicate by the X-Forge-Delivery id.
 *
 * Settings (environment): FORGE_WEBHOOKS / FORGE_WEBHOOKS_FILE (receivers, src/core/webhooks.ts),
 * FORGE_WEBHOOK_POLL_MS (default 1000), FORGE_WEBHOOK_RETRY_MS (first retry delay, default 5000;
 * doubling up to 1 h), FORGE_WEBHOOK_TIMEOUT_MS (per request, default 10000).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Env, integerFromEnv } from '../config/environment.js';
import { deliveryErrorText, parseWebhookReceivers, retryDelay, signDelivery, type WebhookReceiver, wantsEvent } from '../core/webhooks.js';
import { auditAfter } from '../store/audit.js';
import type { Db } from '../store/db.js';
import * as store from '../store/webhooks.js';

export interface WebhookSettings {
  receivers: WebhookReceiver[];
  pollMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
}

/** The receivers and timings from the environment the server's settings module hands over; undefined = no receivers. Throws validation_error naming the variable at fault. */
export function webhookSettingsFromEnv(env: Env): WebhookSettings | undefined {
  const text = env.FORGE_WEBHOOKS || (env.FORGE_WEBHOOKS_FILE ? readFileSync(env.FORGE_WEBHOOKS_FILE, 'utf8') : undefined);
  if (!text) return undefined;
  const receivers = parseWebhookReceivers(text, (path) => readFileSync(path, 'utf8'));
  if (!receivers.length) return undefined;
  return {
    receivers,
    pollMs: integerFromEnv(env, 'FORGE_WEBHOOK_POLL_MS', 1000, 1),
    retryBaseMs: integerFromEnv(env, 'FORGE_WEBHOOK_RETRY_MS', 5000, 1),
    retryMaxMs: 3_600_000,
    timeoutMs: integerFromEnv(env, 'FORGE_WEBHOOK_TIMEOUT_MS', 10_000, 1),
  };
}

const FANOUT_BATCH = 500;
const DELIVERY_BATCH = 20;

/** Turns new audit entries into deliveries; answers how many entries it consumed (0: none, or another replica is at it). */
export async function fanOut(db: Db, receivers: WebhookReceiver[]): Promise<number> {
  return db.transaction(async (tx) => {
    const cursor = await store.claimFanout(tx);
    if (cursor === undefined) return 0;
    const since = await store.ensureSubscriptions(tx, receivers);
    const entries = await auditAfter(tx, cursor, FANOUT_BATCH);
    for (const e of entries) {
      // Only events recorded after the receiver was subscribed (issue #13 item 9): enabling
      // webhooks on an existing database never replays its history.
      for (const r of receivers.filter((rc) => wantsEvent(rc, e.action) && e.seq > (since.get(rc.name) ?? Number.MAX_SAFE_INTEGER))) {
        const id = randomUUID();
        const body = JSON.stringify({ id, event: e.action, seq: e.seq, at: e.at, actor: e.actor, subject: e.subject, details: e.details });
        await store.insertDelivery(tx, { id, receiver: r.name, event_seq: e.seq, event: e.action, body });
      }
    }
    if (entries.length) await store.advanceFanout(tx, entries[entries.length - 1].seq);
    return entries.length;
  });
}

async function post(
  r: WebhookReceiver,
  d: store.Delivery,
  timeoutMs: number,
): Promise<{ statusCode: number | null; error: string | null }> {
  try {
    const res = await fetch(r.url, {
      method: 'POST',
      redirect: 'manual', // a redirect is a failure: the signed body goes only where it was configured to
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'forge-webhooks',
        'x-forge-event': d.event,
        'x-forge-delivery': d.id,
        // Signed with this attempt's time, so a captured delivery cannot be replayed later (issue 19 item 7).
        ...signDelivery(r.secret, d.body, Math.floor(Date.now() / 1000)),
      },
      body: d.body,
    });
    await res.body?.cancel();
    return { statusCode: res.status, error: res.status >= 200 && res.status < 300 ? null : `the receiver answered ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    // The URL never appears: it may carry a token (chat webhooks often do); the client's own
    // message may quote it, so it is taken out (core/webhooks.ts deliveryErrorText).
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { statusCode: null, error: deliveryErrorText(`could not deliver: ${why}`, r.url) };
  }
}

/** Claims and sends the deliveries that are due; answers how many it attempted. */
export async function deliverDue(db: Db, s: WebhookSettings, random = Math.random): Promise<number> {
  const due = await store.claimDue(db, DELIVERY_BATCH, s.timeoutMs + 5_000);
  await Promise.all(
    due.map(async (d) => {
      const receiver = s.receivers.find((r) => r.name === d.receiver);
      const result = receiver
        ? await post(receiver, d, s.timeoutMs)
        : { statusCode: null, error: `receiver "${d.receiver}" is no longer configured` };
      const delivered = result.error === null;
      const giveUp = !receiver || d.attempts >= receiver.max_attempts;
      await store.recordAttempt(
        db,
        { id: d.id, attempt: d.attempts },
        {
          ...result,
          status: delivered ? 'delivered' : giveUp ? 'failed' : 'pending',
          retryInMs: retryDelay(d.attempts, s.retryBaseMs, s.retryMaxMs, random()),
        },
      );
    }),
  );
  return due.length;
}

/**
 * Subscribes the configured receivers that are not yet (store/webhooks.ts ensureSubscriptions):
 * the server calls it before it answers requests, so a new receiver gets every event from its
 * start on and none from before. Called with no settings too (webhooks off): every receiver is
 * then marked absent, so turning webhooks on again starts from then and never replays the gap
 * (issue #13 review F7).
 */
export async function subscribeReceivers(db: Db, s: WebhookSettings | undefined): Promise<void> {
  await db.transaction((tx) => store.syncSubscriptions(tx, s?.receivers ?? []));
}

/** The loop of one replica. stop() waits for the round in progress. */
export function startWebhookDispatcher(db: Db, s: WebhookSettings, log: (line: string) => void) {
  // Subscribe at start, so the events from now on are delivered even if the first fan-out is late.
  let subscribed = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  const tick = () => {
    round = (async () => {
      try {
        if (!subscribed) {
          await store.ensureSubscriptions(db, s.receivers);
          subscribed = true;
        }
        while (!stopped && (await fanOut(db, s.receivers)) === FANOUT_BATCH);
        while (!stopped && (await deliverDue(db, s)) === DELIVERY_BATCH);
      } catch (err) {
        log(`webhooks: ${(err as Error).message}`);
      }
      if (!stopped) timer = setTimeout(tick, s.pollMs);
    })();
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
