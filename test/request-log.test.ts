/** Structured JSON logs with request ids (issue 8, acceptance 6). */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './support/eventually.js';
import { spawnForge } from './support/forge.js';

test('each request is logged as JSON lines carrying its request id, which the answer names too', async (t) => {
  const forge = await spawnForge({ env: { FORGE_LOG: 'on' } });
  t.after(() => forge.stop());
  let out = '';
  forge.proc.stdout!.on('data', (c) => (out += c));
  const token = await forge.token(['developer']);
  const given = await fetch(`${forge.url}/api/v1/projects`, {
    headers: { authorization: `Bearer ${token}`, 'x-request-id': 'ci-run-42.step-7' },
  });
  assert.equal(given.headers.get('x-request-id'), 'ci-run-42.step-7');
  const made = await fetch(`${forge.url}/api/v1/projects`, { headers: { 'x-request-id': 'bad id with spaces and {braces}' } });
  const id = made.headers.get('x-request-id')!;
  assert.match(id, /^[0-9a-f-]{36}$/, 'an unusable id is replaced');
  // A request's completion line is written after its answer: wait for both lines to arrive.
  const completed = (lines: { reqId?: string; res?: { statusCode?: number } }[], reqId: string, status: number) =>
    lines.some((l) => l.reqId === reqId && l.res?.statusCode === status);
  const parsed = () =>
    out
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l)); // complete lines only
  const lines = await eventually('both completion lines', () => {
    const all = parsed();
    return completed(all, 'ci-run-42.step-7', 200) && completed(all, id, 401) ? all : undefined;
  });
  assert.ok(lines.every((l) => typeof l.time === 'number' && typeof l.level === 'number'));
});
