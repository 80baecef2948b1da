/** The one duration parser (src/core/duration.ts): milliseconds, for settings and the platform config. */
import assert from 'node:assert/strict';
import test from 'node:test';
import { parseDuration } from '../src/core/duration.js';

test('durations are milliseconds, single or combined units', () => {
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('7d'), 604_800_000);
  assert.equal(parseDuration('2d12h'), 216_000_000);
  assert.equal(parseDuration('45s'), 45_000);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('0h'), 0);
});

test('anything else is not a duration', () => {
  for (const bad of ['', 'h', '24', '1.5h', '1x', '-1h', '30m1h', ' 1h', '1h ', `${'9'.repeat(30)}d`])
    assert.equal(parseDuration(bad), undefined, bad);
});
