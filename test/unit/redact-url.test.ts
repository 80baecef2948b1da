/** The request log's URL redaction (issue 19 item 1): credential-like query parameters, however their names are encoded. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactAccessToken } from '../../src/server/routes/events.js';

test('access_token is redacted whether or not its name is percent-encoded', () => {
  for (const name of [
    'access_token',
    '%61ccess_token',
    'access%5Ftoken',
    '%61%63%63%65%73%73%5f%74%6f%6b%65%6e',
    'ACCESS_TOKEN',
    'access+token',
  ]) {
    const out = redactAccessToken(`/api/v1/events?a=1&${name}=SECRET&b=2`);
    assert.ok(!out.includes('SECRET'), `${name}: ${out}`);
    assert.match(out, /a=1&.*=\[redacted\]&b=2$/);
  }
});

test('other credential-like names (password, secret, key, signature, code) are redacted; ordinary ones kept', () => {
  for (const name of ['password', 'client_secret', 'api_key', 'signature', 'code', 'refresh%5Ftoken']) {
    assert.ok(!redactAccessToken(`/x?${name}=SECRET`).includes('SECRET'), name);
  }
  assert.equal(redactAccessToken('/api/v1/audit?limit=5&offset=10'), '/api/v1/audit?limit=5&offset=10');
  assert.equal(redactAccessToken('/healthz'), '/healthz');
});

test('a name that is not valid percent-encoding has its value redacted', () => {
  assert.ok(!redactAccessToken('/x?%ZZaccess_token=SECRET').includes('SECRET'));
  assert.ok(!redactAccessToken('/x?%FF=SECRET').includes('SECRET'));
});
