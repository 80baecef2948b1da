/** Unit tests of src/core/policy/branches.ts: branch pushes must come from a branch matching the environment's globs (DESIGN.md §7). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATFORM_CONFIG } from '../../src/core/platform-config.js';
import { branchesRule, evaluate, globMatches } from '../../src/core/policy/branches.js';
import { type PolicyInput, policyFacts } from '../../src/core/policy/index.js';

const [dev, staging, production] = DEFAULT_PLATFORM_CONFIG.environments.map((e) => e.policy);
const facts = (over: Partial<PolicyInput>) =>
  policyFacts({ policy: staging, triggers: [], approvals: [], deployer: 'alice', now: new Date(), ...over });

test('globs: * spans any characters including /, ? exactly one, whole-string match, other characters literal', () => {
  assert.ok(globMatches('release/*', 'release/1/2'));
  assert.ok(!globMatches('release/*', 'release'));
  assert.ok(globMatches('v?', 'v1') && !globMatches('v?', 'v12'));
  assert.ok(!globMatches('main', 'maintenance'));
  assert.ok(!globMatches('a+b', 'aab'), 'a plus is literal');
});

test('a matching branch passes; the check lists the branches the release came from', () => {
  assert.deepEqual(evaluate(facts({ triggers: [{ type: 'branch_push', branch: 'release/1.2' }] })), {
    name: 'branches',
    required: ['main', 'release/*'],
    actual: ['release/1.2'],
    ok: true,
  });
});

test('a branch outside the globs fails, quoting branch and globs', () => {
  const c = evaluate(facts({ triggers: [{ type: 'branch_push', branch: 'feature/x' }] }));
  assert.equal(c.ok, false);
  assert.equal(c.reason, 'branch "feature/x" matches none of "main", "release/*"');
});

test('tag and manual triggers carry no branch and pass', () => {
  assert.equal(evaluate(facts({ triggers: [{ type: 'tag' }] })).ok, true);
  assert.deepEqual(evaluate(facts({ triggers: [{ type: 'manual' }] })).actual, []);
  assert.equal(evaluate(facts({ policy: dev, triggers: [{ type: 'branch_push', branch: 'any/thing' }] })).ok, true);
});

test('judged on the triggers of accepted types: a passing tag does not excuse a branch when tags are not accepted', () => {
  const branchOnly = { ...production, allowedTriggers: ['branch_push' as const] };
  const c = evaluate(facts({ policy: branchOnly, triggers: [{ type: 'branch_push', branch: 'feature/x' }, { type: 'tag' }] }));
  assert.equal(c.ok, false);
  // with no accepted trigger at all, every trigger is a candidate (the trigger rule fails instead)
  assert.equal(evaluate(facts({ policy: { ...production, allowedTriggers: [] }, triggers: [{ type: 'tag' }] })).ok, true);
  assert.equal(branchesRule.name, 'branches');
});

test('a branch push without a branch name fails', () => {
  assert.deepEqual(evaluate(facts({ triggers: [{ type: 'branch_push', branch: null }] })).actual, ['']);
  assert.equal(evaluate(facts({ triggers: [{ type: 'branch_push', branch: null }] })).ok, false);
});
