/** Unit tests of src/core/policy/pin.ts: auto-deploys leave a pinned environment/project alone (DESIGN.md §8). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATFORM_CONFIG } from '../../src/core/platform-config.js';
import { type PolicyInput, policyFacts } from '../../src/core/policy/index.js';
import { evaluate, pinRule } from '../../src/core/policy/pin.js';

const facts = (over: Partial<PolicyInput>) =>
  policyFacts({
    policy: DEFAULT_PLATFORM_CONFIG.environments[0].policy,
    triggers: [],
    approvals: [],
    deployer: 'forge:auto-deploy',
    now: new Date(),
    ...over,
  });

test('does not apply outside auto-deploys (no pin in the input)', () => {
  assert.equal(evaluate(facts({})), undefined);
});

test('passes when not pinned', () => {
  assert.deepEqual(evaluate(facts({ pin: null })), { name: 'pin', required: 'not pinned', actual: 'not pinned', ok: true });
});

test('fails when pinned, saying by whom, when, why and how to resume', () => {
  const c = evaluate(facts({ pin: { pinned_by: 'olga', pinned_at: '2026-01-01T00:00:00Z', reason: 'rollback to release 3' } }))!;
  assert.equal(c.ok, false);
  assert.equal(c.actual, 'pinned by olga at 2026-01-01T00:00:00Z');
  assert.equal(c.reason, 'the environment/project is pinned (rollback to release 3); auto-deploys resume after `forge unpin`');
  assert.equal(
    evaluate(facts({ pin: { pinned_by: 'olga', pinned_at: 'x', reason: null } }))!.reason,
    'the environment/project is pinned; auto-deploys resume after `forge unpin`',
  );
  assert.equal(pinRule.name, 'pin');
});
