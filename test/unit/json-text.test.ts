/** Configured JSON with a syntax error: the message says where, never what is there (issue #19 review F4: secrets in JSON.parse's excerpt). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonText } from '../../src/core/json-text.js';
import { parseRoleMapping } from '../../src/core/role-mapping.js';
import { parseWebhookReceivers } from '../../src/core/webhooks.js';

const CANARY = 'CANARYSECRET0123456789';

const malformed = [
  `[{"name":"x","url":"https://h.example/x","secret":${CANARY}}]`,
  `{"auths":{"r.example":{"password":${CANARY}}}}`,
  `{"claims":["groups"],"groups":{"a":[${CANARY}]}}`,
  `{"secret":"${CANARY}"`,
  `{"secret":"${CANARY}",}`,
  `{"secret" "${CANARY}"}`,
];

test('every parser of configured JSON reports a syntax error without quoting the text', () => {
  for (const text of malformed) {
    for (const parse of [
      (t: string) => parseJsonText(t, 'the file'),
      (t: string) => parseWebhookReceivers(t, () => ''),
      parseRoleMapping,
    ]) {
      assert.throws(
        () => parse(text),
        (err: Error) => {
          assert.doesNotMatch(err.message, /CANARY/, err.message);
          assert.match(err.message, /is not valid JSON/);
          return true;
        },
      );
    }
  }
});

test('the error says where the fault is when the engine knows', () => {
  assert.throws(() => parseJsonText('{\n  "a": 1,\n  x\n}', 'the map'), /the map is not valid JSON at line 3, column 3/);
  assert.deepEqual(parseJsonText('{"a":[1]}', 'the map'), { a: [1] });
});
