/** Unit tests of src/core/policy/verification-gate.ts (issue 15, `promotion_policy.requires`). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATFORM_CONFIG } from '../../src/core/platform-config.js';
import { evaluatePolicy, type PolicyInput, policyFacts } from '../../src/core/policy/index.js';
import { evaluate, formatDuration } from '../../src/core/policy/verification-gate.js';

const now = new Date('2026-11-30T13:05:00Z');
const facts = (verification: PolicyInput['verification']) =>
  policyFacts({
    policy: DEFAULT_PLATFORM_CONFIG.environments[1].policy,
    triggers: [{ type: 'tag' }],
    approvals: [],
    deployer: 'a',
    now,
    verification,
  });
const gate = (over: Partial<NonNullable<PolicyInput['verification']>[number]> = {}) => ({
  environment: 'staging',
  healthyForMs: 3_600_000,
  healthySince: null,
  longestMs: 0,
  ...over,
});

test('does not apply without requirements', () => {
  assert.equal(evaluate(facts(undefined)), undefined);
  assert.equal(evaluate(facts([])), undefined);
});

test('met by a running stretch as long as required, or by an ended one; exactly at the boundary counts', () => {
  assert.equal(evaluate(facts([gate({ healthySince: '2026-11-30T12:05:00Z' })]))!.ok, true);
  assert.equal(evaluate(facts([gate({ longestMs: 3_600_000 })]))!.ok, true);
  assert.equal(evaluate(facts([gate({ healthySince: '2026-11-30T12:05:00.001Z' })]))!.ok, false);
});

test('not met yet: says when it will be ("eligible at"), per environment', () => {
  const c = evaluate(facts([gate({ healthySince: '2026-11-30T13:00:00Z', longestMs: 1000 })]))!;
  assert.equal(c.ok, false);
  assert.equal(
    c.reason,
    'must have been healthy in staging for 1h; healthy there since 2026-11-30T13:00:00.000Z: eligible at 2026-11-30T14:00:00.000Z',
  );
  assert.deepEqual(c.actual, [
    {
      environment: 'staging',
      healthy_since: '2026-11-30T13:00:00Z',
      longest_healthy_seconds: 1,
      met: false,
      eligible_at: '2026-11-30T14:00:00.000Z',
    },
  ]);
  assert.deepEqual(c.required, [{ environment: 'staging', healthy_for_seconds: 3600 }]);
});

test('not healthy at all: no time, a plain reason; several gates: each that fails is named', () => {
  const c = evaluate(
    facts([gate({ longestMs: 59_000 }), gate({ environment: 'qa', healthyForMs: 60_000, healthySince: '2026-11-30T13:04:30Z' })]),
  )!;
  assert.equal(c.ok, false);
  assert.match(
    c.reason!,
    /^must have been healthy in staging for 1h; it is not healthy there now .*; must have been healthy in qa for 1m; .*eligible at 2026-11-30T13:05:30\.000Z$/,
  );
});

test('"eligible at" keeps full RFC 3339 precision: the seconds (and milliseconds) are never dropped', () => {
  const c = evaluate(facts([gate({ healthyForMs: 60_000, healthySince: '2026-11-30T13:04:17.250Z' })]))!;
  assert.equal(c.ok, false);
  assert.ok(c.reason!.endsWith('healthy there since 2026-11-30T13:04:17.250Z: eligible at 2026-11-30T13:05:17.250Z'), c.reason);
  assert.equal((c.actual as { eligible_at: string }[])[0].eligible_at, '2026-11-30T13:05:17.250Z');
});

test('is one of THE rules: a refusal lists it after the others', () => {
  const d = evaluatePolicy(facts([gate()]));
  assert.equal(d.allowed, false);
  assert.equal(d.checks.at(-1)!.name, 'verification');
});

test('formatDuration', () => {
  assert.deepEqual([3_600_000, 5_400_000, 45_000, 0, 90_061_000].map(formatDuration), ['1h', '1h30m', '45s', '0s', '1d1h1m1s']);
});
