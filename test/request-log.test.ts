/** Structured JSON logs with request ids (issue 8, acceptance 6). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnForge } from './support/forge.js';

test('each request is logged as JSON lines carrying its request id, which the answer names too', async (t) => {
  const forge = await spawnForge({ env: { FORGE_LOG: 'on' } });
  t.after(() => forge.stop());
  let out = '';
  forge.proc.stdout!.on('data', (c) => (out += c));
  const token = await forge.token(['developer']);
  const given = await fetch(`${forge.url}/api/v1/projects`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'ci-run-42.step-7' } });
  assert.equal(given.headers.get('x-request-id'), 'ci-run-42.step-7');
  const made = await fetch(`${forge.url}/api/v1/projects`, { headers: { 'x-request-id': 'bad id with spaces and {braces}' } });
  const id = made.headers.get('x-request-id')!;
  assert.match(id, /^[0-9a-f-]{36}$/, 'an unusable id is replaced');
  await new Promise((ok) => setTimeout(ok, 300));
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.reqId === 'ci-run-42.step-7' && l.res?.statusCode === 200));
  assert.ok(lines.some((l) => l.reqId === id && l.res?.statusCode === 401));
  assert.ok(lines.every((l) => typeof l.time === 'number' && typeof l.level === 'number'));
});
