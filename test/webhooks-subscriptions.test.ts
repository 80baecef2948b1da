/**
 * Issue #13 item 9: enabling webhooks on an existing database delivers only the events after
 * the subscription exists, never the history. The whole kind: a receiver enabled later, a
 * receiver added beside another, and a receiver configured before subscriptions were recorded
 * (upgrade) keep exactly the events that are theirs.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookReceiver } from '../src/core/webhooks.js';
import { fanOut, subscribeReceivers } from '../src/services/webhooks.js';
import { appendAudit } from '../src/store/audit.js';
import type { Db } from '../src/store/db.js';
import { ENGINES, freshPostgres, testDb } from './support/db.js';
import { releaseBody, sha, startForge, tempDir } from './support/forge.js';

const receiverNamed = (name: string): WebhookReceiver => ({
  name,
  url: `http://127.0.0.1:9/${name}`,
  events: ['*'],
  secret: 'whsec-0123456789abcdef',
  max_attempts: 1,
});

async function audit(db: Db, n: number, tag: string) {
  for (let i = 0; i < n; i++) {
    await db.transaction((tx) => appendAudit(tx, { actor: 'test', action: 'release.created', subject: `${tag}-${i}` }));
  }
}

async function delivered(db: Db, receiver: string): Promise<string[]> {
  const rows = await db.query<{ body: string }>('select body from webhook_deliveries where receiver = $1 order by event_seq', [receiver]);
  return rows.map((r) => JSON.parse(r.body).subject);
}

for (const engine of ENGINES) {
  describe(`webhook subscriptions (${engine})`, () => {
    test('a receiver enabled on a database with history gets only later events; one added later starts at its own subscription', async () => {
      const { db, cleanup } = await testDb(engine);
      try {
        await audit(db, 5, 'old');
        await fanOut(db, [receiverNamed('a')]);
        assert.deepEqual(await delivered(db, 'a'), []);
        await audit(db, 2, 'new');
        await fanOut(db, [receiverNamed('a')]);
        assert.deepEqual(await delivered(db, 'a'), ['new-0', 'new-1']);

        await audit(db, 1, 'later');
        await fanOut(db, [receiverNamed('a'), receiverNamed('b')]);
        assert.deepEqual(await delivered(db, 'a'), ['new-0', 'new-1', 'later-0']);
        assert.deepEqual(await delivered(db, 'b'), [], 'b subscribed after later-0 was recorded');
        await audit(db, 1, 'last');
        await fanOut(db, [receiverNamed('a'), receiverNamed('b')]);
        assert.deepEqual(await delivered(db, 'b'), ['last-0']);
      } finally {
        await cleanup();
      }
    });

    test('review F7: a receiver turned off and on again, or a new URL under a reused name, starts from then: no gap, no backlog', async () => {
      const { db, cleanup } = await testDb(engine);
      try {
        const a = receiverNamed('a');
        // A server starting with this list of receivers (none: webhooks off).
        const serverStarts = (receivers: WebhookReceiver[]) =>
          subscribeReceivers(db, receivers.length ? { receivers, pollMs: 1, retryBaseMs: 1, retryMaxMs: 1, timeoutMs: 1 } : undefined);
        await serverStarts([a]);
        await fanOut(db, [a]);
        await audit(db, 1, 'on');
        await fanOut(db, [a]);
        assert.deepEqual(await delivered(db, 'a'), ['on-0']);

        // Webhooks off (the server starts with none: subscribeReceivers with no settings); events meanwhile.
        await serverStarts([]);
        await audit(db, 3, 'gap');
        // On again with the same receiver: the gap is not replayed.
        await serverStarts([a]);
        await fanOut(db, [a]);
        await audit(db, 1, 'back');
        await fanOut(db, [a]);
        assert.deepEqual(await delivered(db, 'a'), ['on-0', 'back-0']);

        // Removed from a configuration that keeps another receiver, then added again.
        await serverStarts([receiverNamed('other')]);
        await fanOut(db, [receiverNamed('other')]);
        await audit(db, 2, 'without-a');
        await fanOut(db, [receiverNamed('other')]);
        await serverStarts([a, receiverNamed('other')]);
        await fanOut(db, [a, receiverNamed('other')]);
        await audit(db, 1, 'with-a');
        await fanOut(db, [a, receiverNamed('other')]);
        assert.deepEqual(await delivered(db, 'a'), ['on-0', 'back-0', 'with-a-0']);

        // Same name, another URL: the old URL's pending backlog is not sent to it, and it starts from now.
        await audit(db, 1, 'pending-for-old-url');
        await fanOut(db, [a]);
        const moved = { ...a, url: 'http://127.0.0.1:9/elsewhere' };
        await audit(db, 1, 'before-move');
        await serverStarts([moved]);
        await fanOut(db, [moved]);
        await audit(db, 1, 'after-move');
        await fanOut(db, [moved]);
        const rows = await db.query<{ subject: string; status: string; last_error: string | null }>(
          `select body::jsonb->>'subject' as subject, status, last_error from webhook_deliveries where receiver = 'a' order by event_seq`,
        );
        assert.deepEqual(
          rows.map((r) => r.subject),
          ['on-0', 'back-0', 'with-a-0', 'pending-for-old-url-0', 'after-move-0'],
          'before-move-0 (recorded for the old URL, not fanned out) is not the new URL’s',
        );
        const old = rows.find((r) => r.subject === 'pending-for-old-url-0')!;
        assert.equal(old.status, 'failed', 'the old URL’s pending delivery is never sent to the new one');
        assert.match(old.last_error!, /subscribed anew \(its URL changed\)/);
        assert.equal(rows.find((r) => r.subject === 'after-move-0')!.status, 'pending');
        // Back to a steady configuration: nothing more is renewed, at a restart either.
        await serverStarts([moved]);
        await audit(db, 1, 'steady');
        await fanOut(db, [moved]);
        assert.deepEqual((await delivered(db, 'a')).slice(-2), ['after-move-0', 'steady-0']);
      } finally {
        await cleanup();
      }
    });

    test('upgrade: a receiver that already had deliveries keeps every event after the fan-out cursor', async () => {
      const { db, cleanup } = await testDb(engine);
      try {
        await audit(db, 3, 'before');
        // The state a database is in when it was delivering before migration 0030: a delivery
        // for the receiver, the cursor at entry 2, entry 3 not fanned out yet, no subscription.
        await db.query(
          `insert into webhook_deliveries (id, receiver, event_seq, event, body, status, next_attempt_at)
           values (gen_random_uuid(), 'old', 2, 'release.created', '{"subject":"before-1"}', 'delivered', now())`,
        );
        await db.query('update webhook_fanout set last_seq = 2');
        await fanOut(db, [receiverNamed('old')]);
        assert.deepEqual(await delivered(db, 'old'), ['before-1', 'before-2']);
      } finally {
        await cleanup();
      }
    });
  });
}

describe('webhooks turned on for an existing Forge (PostgreSQL)', () => {
  test('the repro: history recorded while webhooks were off is not sent', async () => {
    const got: string[] = [];
    const sink = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const { url, drop } = await freshPostgres();
    const keyFile = `${tempDir()}/token-key`;
    try {
      const before = await startForge({ databaseUrl: url, tokenKeyFile: keyFile });
      const ci = await before.token(['service-account'], 'ci@example.com');
      for (let i = 0; i < 4; i++) {
        const r = await before.api('POST', '/releases', releaseBody({ project: `old-${i}` }, sha(i + 1)), ci);
        assert.equal(r.status, 201, r.text);
      }
      await before.stop();

      const port = (sink.address() as AddressInfo).port;
      const after = await startForge({
        databaseUrl: url,
        tokenKeyFile: keyFile,
        env: {
          FORGE_WEBHOOK_POLL_MS: '20',
          FORGE_WEBHOOKS: JSON.stringify([
            { name: 'sink', url: `http://127.0.0.1:${port}/sink`, events: ['*'], secret: 'whsec-0123456789abcdef' },
          ]),
        },
      });
      try {
        const operator = await after.token(['operator'], 'ops@example.com');
        const r = await after.api('POST', '/releases', releaseBody({ project: 'new' }, sha(99)), ci);
        assert.equal(r.status, 201, r.text);
        for (let i = 0; i < 600 && !got.some((b) => JSON.parse(b).subject.includes('/new/')); i++) await sleep(50);
        // Fan-out is in log order: had any older entry been fanned out to the sink, its delivery
        // would be in the log before the new release's.
        const log = (await after.api('GET', '/webhooks/deliveries?receiver=sink', undefined, operator)).body.items as {
          event_seq: number;
        }[];
        const subjects = got.map((b) => JSON.parse(b).subject as string);
        assert.ok(
          subjects.some((s) => s.includes('/new/')),
          JSON.stringify(subjects),
        );
        assert.ok(
          subjects.every((s) => !s.includes('/old-')),
          JSON.stringify(subjects),
        );
        // 4 releases before: their entries are seq 1..4 at least; none was queued for the sink.
        const newSeq = got.map((b) => JSON.parse(b)).find((p) => p.subject.includes('/new/')).seq as number;
        assert.ok(log.length > 0 && log.every((d) => d.event_seq >= newSeq), JSON.stringify(log.map((d) => d.event_seq)));
      } finally {
        await after.stop();
      }
    } finally {
      sink.close();
      await drop();
    }
  });
});
