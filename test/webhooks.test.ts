/**
 * Webhooks (issue 6, acceptance 5): per event type, HMAC-SHA256 signed JSON, retries with
 * backoff and a delivery log; a failing or hanging receiver never blocks or fails the
 * operation; several replicas deliver each event once between them.
 */

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { deliveryErrorText, parseWebhookReceivers, signPayload, verifyDelivery, type WebhookReceiver } from '../src/core/webhooks.js';
import { loadSettings } from '../src/server/settings.js';
import { webhookDeliveries } from '../src/services/webhook-deliveries.js';
import { deliverDue, fanOut } from '../src/services/webhooks.js';
import { appendAudit } from '../src/store/audit.js';
import { ENGINES, freshPostgres, testDb } from './support/db.js';
import { type Forge, releaseBody, sha, startForge, tempDir } from './support/forge.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver on a loopback port; `answer` decides each response (a status, or 'hang' to never answer). */
async function receiver(answer: (n: number, path: string) => number | 'hang') {
  const got: Received[] = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = req.url!;
      got.push({ path, headers: req.headers, body });
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const a = answer(n, path);
      if (a !== 'hang') res.writeHead(a).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

const SECRET = 'whsec-0123456789abcdef-good';

// The configuration, signature and backoff rules (src/core/webhooks.ts) are unit-tested in test/unit/webhooks.test.ts.
for (const engine of ENGINES) {
  describe(`webhook delivery (${engine})`, () => {
    let forge: Forge;
    let good: Awaited<ReturnType<typeof receiver>>;
    let drop = async () => {};
    let operator: string;
    before(async () => {
      good = await receiver((n, path) =>
        path === '/good' ? 204 : path === '/flaky' ? (n <= 2 ? 500 : 200) : path === '/dead' ? 500 : 'hang',
      );
      let databaseUrl: string | undefined;
      if (engine === 'postgres') ({ url: databaseUrl, drop } = await freshPostgres());
      const secretFile = join(tempDir(), 'flaky-secret');
      (await import('node:fs')).writeFileSync(secretFile, 'whsec-flaky-0123456789abcdef\n');
      forge = await startForge({
        databaseUrl,
        env: {
          FORGE_WEBHOOK_POLL_MS: '50',
          FORGE_WEBHOOK_RETRY_MS: '50',
          FORGE_WEBHOOK_TIMEOUT_MS: '1000',
          FORGE_WEBHOOKS: JSON.stringify([
            { name: 'good', url: `${good.url}/good`, events: ['release.*', 'deployment.*'], secret: SECRET },
            { name: 'flaky', url: `${good.url}/flaky`, events: ['release.created'], secret_file: secretFile },
            { name: 'dead', url: `${good.url}/dead`, events: ['release.created'], secret: 'whsec-dead-0123456789abcdef', max_attempts: 2 },
            {
              name: 'hanging',
              url: `${good.url}/hang?token=url-secret-xyz`,
              events: ['release.created'],
              secret: 'whsec-hang-0123456789abcdef',
              max_attempts: 1,
            },
          ]),
        },
      });
      operator = await forge.token(['operator'], 'ops@example.com');
    });
    after(async () => {
      await forge.stop();
      await good.stop();
      await drop();
    });

    const deliveries = async (receiverName: string) =>
      (await forge.api('GET', `/webhooks/deliveries?receiver=${receiverName}`, undefined, operator)).body.items;

    test('a release is created while receivers fail or hang; the good receiver gets a signed payload', async () => {
      const ci = await forge.token(['service-account'], 'ci@example.com');
      const created = await forge.api('POST', '/releases', releaseBody(), ci);
      assert.equal(created.status, 201, created.text);

      const hit = await until('release.created at /good', async () =>
        good.got.find((g) => g.path === '/good' && g.headers['x-forge-event'] === 'release.created'),
      );
      assert.equal(hit.headers['content-type'], 'application/json');
      assert.equal(hit.headers['x-forge-event'], 'release.created');
      // Signed over `<timestamp>.<body>` (issue 19 item 7), the timestamp in X-Forge-Timestamp.
      const ts = hit.headers['x-forge-timestamp'] as string;
      assert.match(ts, /^\d{10}$/);
      assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 600, "the attempt's time");
      assert.equal(
        hit.headers['x-forge-signature-256'],
        `sha256=${createHmac('sha256', SECRET).update(`${ts}.${hit.body}`).digest('hex')}`,
      );
      const payload = JSON.parse(hit.body);
      assert.equal(payload.id, hit.headers['x-forge-delivery']);
      assert.equal(payload.event, 'release.created');
      assert.equal(payload.actor, 'ci@example.com');
      assert.equal(payload.subject, created.body.canonical_id);
      assert.equal(typeof payload.seq, 'number');
    });

    test('a captured delivery replayed later, or with its timestamp changed, is refused by a receiver that checks as documented', async () => {
      const hit = await until('a delivery at /good', async () => good.got.find((g) => g.path === '/good'));
      const headers = { timestamp: hit.headers['x-forge-timestamp'] as string, signature: hit.headers['x-forge-signature-256'] as string };
      const at = Number(headers.timestamp);
      assert.equal(verifyDelivery(SECRET, headers, hit.body, at + 10), undefined, 'fresh: accepted');
      assert.match(verifyDelivery(SECRET, headers, hit.body, at + 301)!, /the timestamp is 301 s from now; at most 300 s are accepted/);
      assert.match(verifyDelivery(SECRET, { ...headers, timestamp: String(at + 3600) }, hit.body, at + 3600)!, /signature does not match/);
      assert.match(verifyDelivery(SECRET, headers, hit.body.replace('"seq"', '"seq" '), at)!, /signature does not match/);
      assert.match(verifyDelivery(SECRET, { signature: headers.signature }, hit.body, at)!, /X-Forge-Timestamp is missing/);
      assert.match(verifyDelivery('whsec-another-0123456789', headers, hit.body, at)!, /signature does not match/);
    });

    test('a failing receiver is retried with the same delivery and body, each attempt signed with its own time, until it answers; each attempt is logged', async () => {
      const [d] = await until(
        'flaky delivered',
        async () => (await deliveries('flaky')).find((x: { status: string }) => x.status === 'delivered') && deliveries('flaky'),
      );
      assert.equal(d.attempts, 3);
      assert.deepEqual(
        d.attempts_log.map((a: { status_code: number }) => a.status_code),
        [500, 500, 200],
      );
      assert.match(d.attempts_log[0].error, /the receiver answered 500/);
      const hits = good.got.filter((g) => g.path === '/flaky');
      assert.equal(hits.length, 3);
      assert.equal(new Set(hits.map((h) => h.headers['x-forge-delivery'])).size, 1);
      assert.equal(new Set(hits.map((h) => h.body)).size, 1);
      for (const h of hits)
        assert.equal(
          h.headers['x-forge-signature-256'],
          signPayload('whsec-flaky-0123456789abcdef', `${h.headers['x-forge-timestamp']}.${h.body}`),
        );
    });

    test('a receiver that keeps failing is given up after max_attempts; a hanging one times out; neither shows URL or secret', async () => {
      const [dead] = await until(
        'dead failed',
        async () => (await deliveries('dead')).find((x: { status: string }) => x.status === 'failed') && deliveries('dead'),
      );
      assert.equal(dead.attempts, 2);
      const [hang] = await until(
        'hanging failed',
        async () => (await deliveries('hanging')).find((x: { status: string }) => x.status === 'failed') && deliveries('hanging'),
      );
      assert.match(hang.last_error, /no answer within 1000 ms/);
      const all = await forge.api('GET', '/webhooks/deliveries?limit=200', undefined, operator);
      for (const secret of ['url-secret-xyz', SECRET, 'whsec-dead', 'whsec-hang', 'whsec-flaky', good.url])
        assert.ok(!all.text.includes(secret), secret);
    });

    test('deployments are delivered per event type to the receiver that asked for them', async () => {
      const deployer = await forge.token(['deployer:staging'], 'dana@example.com');
      const res = await forge.api(
        'POST',
        '/deployments',
        { repository: 'acme/mono', project: 'auth-service', environment: 'staging', release: '1' },
        deployer,
      );
      assert.equal(res.status, 201, res.text);
      const events = await until('deployment events', async () => {
        const e = good.got.filter((g) => g.path === '/good').map((g) => g.headers['x-forge-event']);
        return e.includes('deployment.active') && e;
      });
      assert.ok(events.includes('deployment.requested'));
      assert.ok(
        !good.got.some((g) => g.path === '/flaky' && g.headers['x-forge-event'] !== 'release.created'),
        'flaky asked only for release.created',
      );
    });
  });
}

describe('webhooks with two replicas on one PostgreSQL', () => {
  test('each event is delivered once between them', async () => {
    const sink = await receiver(() => 200);
    const { url, drop } = await freshPostgres();
    const keyFile = join(tempDir(), 'token-key');
    const env = {
      FORGE_WEBHOOK_POLL_MS: '20',
      FORGE_WEBHOOK_RETRY_MS: '50',
      FORGE_WEBHOOKS: JSON.stringify([{ name: 'sink', url: `${sink.url}/sink`, events: ['release.created'], secret: SECRET }]),
    };
    const a = await startForge({ databaseUrl: url, tokenKeyFile: keyFile, env });
    const b = await startForge({ databaseUrl: url, tokenKeyFile: keyFile, env });
    try {
      const ci = await a.token(['service-account'], 'ci@example.com');
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? a : b).api('POST', '/releases', releaseBody({ project: `svc-${i}` }, sha(i + 1)), ci),
        ),
      );
      assert.ok(
        results.every((r) => r.status === 201),
        results.map((r) => r.text).join('\n'),
      );
      await until('12 deliveries', async () => sink.got.length >= 12);
      await sleep(300); // a duplicate, if any replica were to send one, would arrive by now
      const seqs = sink.got.map((g) => JSON.parse(g.body).seq);
      assert.equal(seqs.length, 12);
      assert.equal(new Set(seqs).size, 12);
    } finally {
      await a.stop();
      await b.stop();
      await sink.stop();
      await drop();
    }
  });
});

describe('receiver URLs never reach the delivery log (issue 19, attack review B)', () => {
  const credentialed = 'http://hookuser:PW-hunter2@127.0.0.1:9/hook?token=Q-tok-123';

  test('user:password in a configured receiver URL is refused at start, naming the field and not quoting the value', () => {
    const text = JSON.stringify([{ name: 'chat', url: credentialed, secret: SECRET }]);
    assert.throws(
      () => parseWebhookReceivers(text, () => ''),
      (err: Error) => {
        assert.match(err.message, /\[0\]\.url: expected a URL without user:password@/);
        for (const part of ['hookuser', 'PW-hunter2', 'Q-tok-123']) assert.ok(!err.message.includes(part), part);
        return true;
      },
    );
    assert.throws(() => loadSettings({}, { FORGE_WEBHOOKS: text }), /without user:password@/);
  });

  test('a delivery whose HTTP client quotes the URL is logged without the URL, its password or its query', async () => {
    const { db, cleanup } = await testDb('pglite');
    try {
      // Past the configuration check (an older configuration, or a URL the client still refuses).
      const r: WebhookReceiver = { name: 'chat', url: credentialed, events: ['*'], secret: SECRET, max_attempts: 1 };
      await fanOut(db, [r]);
      await db.transaction((tx) => appendAudit(tx, { actor: 'test', action: 'release.created', subject: 's-1' }));
      await fanOut(db, [r]);
      const settings = { receivers: [r], pollMs: 50, retryBaseMs: 50, retryMaxMs: 1000, timeoutMs: 1000 };
      assert.equal(await deliverDue(db, settings), 1);
      const shown = JSON.stringify(await webhookDeliveries({ db }, { receiver: 'chat' }));
      assert.match(shown, /could not deliver/);
      const stored = JSON.stringify([await db.query('select * from webhook_deliveries'), await db.query('select * from webhook_attempts')]);
      for (const part of ['hookuser', 'PW-hunter2', 'Q-tok-123', '127.0.0.1:9'])
        for (const [where, text] of [
          ['the API', shown],
          ['the database', stored],
        ])
          assert.ok(!text.includes(part), `${part} in ${where}: ${text}`);
    } finally {
      await cleanup();
    }
  });

  test('deliveryErrorText takes out any URL and every part of the receiver URL', () => {
    const text = deliveryErrorText(
      `could not deliver: Request cannot be constructed from a URL that includes credentials: ${credentialed} token Q-tok-123 PW-hunter2`,
      credentialed,
    );
    assert.equal(
      text,
      'could not deliver: Request cannot be constructed from a URL that includes credentials: <receiver URL> token <redacted> <redacted>',
    );
  });
});
