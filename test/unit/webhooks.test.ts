/** Unit tests of src/core/webhooks.ts: receivers, event filters, signatures and retry delays (issue 6). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWebhookReceivers, retryDelay, signPayload, wantsEvent } from '../../src/core/webhooks.js';

const noFile = (p: string): string => assert.fail(`no secret file expected, read ${p}`);

test('receivers are validated with the place of the mistake; secrets may come from a file', () => {
  const read = (p: string) => (p === '/s' ? 'from-a-file-0123456789\n' : assert.fail(p));
  const [r] = parseWebhookReceivers('[{"name":"a","url":"https://x.example/h","secret_file":"/s"}]', read);
  assert.deepEqual(r, { name: 'a', url: 'https://x.example/h', events: ['*'], secret: 'from-a-file-0123456789', max_attempts: 8 });
  for (const [json, message] of [
    ['not json', /webhook configuration is not valid JSON/],
    ['{}', /a JSON list/],
    ['[7]', /\[0\]: expected an object with name, url, events and secret or secret_file/],
    ['[{"name":"A","url":"https://x","secret":"0123456789abcdef"}]', /\[0\]\.name: expected a name of lower-case letters/],
    ['[{"name":"a","url":"ftp://x","secret":"0123456789abcdef"}]', /\[0\]\.url: expected an http or https URL/],
    ['[{"name":"a","url":"not a url","secret":"0123456789abcdef"}]', /\[0\]\.url: expected an http or https URL/],
    ['[{"name":"a","url":"https://x","secret":"short"}]', /\[0\]\.secret: expected a secret of at least 16/],
    ['[{"name":"a","url":"https://x"}]', /exactly one of secret and secret_file/],
    ['[{"name":"a","url":"https://x","secret":"0123456789abcdef","secret_file":"/s"}]', /exactly one of secret and secret_file/],
    ['[{"name":"a","url":"https://x","secret":"0123456789abcdef","events":["deploy ment"]}]', /\[0\]\.events/],
    ['[{"name":"a","url":"https://x","secret":"0123456789abcdef","events":[]}]', /\[0\]\.events/],
    [
      '[{"name":"a","url":"https://x","secret":"0123456789abcdef"},{"name":"a","url":"https://y","secret":"0123456789abcdef"}]',
      /\[1\]\.name: expected a name not used/,
    ],
    ['[{"name":"a","url":"https://x","secret":"0123456789abcdef","retries":3}]', /\[0\]\.retries: expected one of/],
    [
      '[{"name":"a","url":"https://x","secret":"0123456789abcdef","max_attempts":0}]',
      /\[0\]\.max_attempts: expected a whole number from 1 to 100/,
    ],
    ['[{"name":"a","url":"https://x","secret":"0123456789abcdef","max_attempts":1.5}]', /\[0\]\.max_attempts/],
    ['[{"name":"a","url":"https://x","secret":"0123456789abcdef","max_attempts":101}]', /\[0\]\.max_attempts/],
  ] as const) {
    assert.throws(() => parseWebhookReceivers(json, read), message, json);
  }
});

test('URLs come back normalised; events, secret and attempts as given', () => {
  const [r] = parseWebhookReceivers(
    '[{"name":"chat.ops_1","url":"HTTP://Hooks.Example:80/h?x=1","events":["release.created","deployment.*"],"secret":"0123456789abcdef","max_attempts":100}]',
    noFile,
  );
  assert.deepEqual(r, {
    name: 'chat.ops_1',
    url: 'http://hooks.example/h?x=1',
    events: ['release.created', 'deployment.*'],
    secret: '0123456789abcdef',
    max_attempts: 100,
  });
});

test('event filters: exact names, families and everything', () => {
  const r = (events: string[]) => ({ name: 'a', url: 'https://x', secret: 's', max_attempts: 1, events });
  assert.ok(wantsEvent(r(['deployment.*']), 'deployment.active'));
  assert.ok(!wantsEvent(r(['deployment.*']), 'deployments.active'));
  assert.ok(wantsEvent(r(['release.created']), 'release.created'));
  assert.ok(!wantsEvent(r(['release.created']), 'release.updated'));
  assert.ok(wantsEvent(r(['*']), 'auth.permission_denied'));
  assert.ok(wantsEvent(r(['pin.set', 'approval.*']), 'approval.revoked'));
});

test('signature is HMAC-SHA256 of the body (known vector) and delays double with jitter and a cap', () => {
  assert.equal(
    signPayload('key', 'The quick brown fox jumps over the lazy dog'),
    'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => retryDelay(n, 1000, 5000, 1)),
    [1000, 2000, 4000, 5000],
  );
  assert.equal(retryDelay(3, 1000, 60_000, 0), 2000, 'jitter takes at most half away');
  assert.equal(retryDelay(2, 1000, 60_000, 0.5), 1500);
});
