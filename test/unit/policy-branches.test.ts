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

test('issue #13 item 1: tag and manual releases are held to the branch rule through the branches containing the commit', () => {
  // The repro: a tag on a feature-branch commit, for production (main only).
  const repro = evaluate(facts({ policy: production, triggers: [{ type: 'tag' }], commitBranches: ['feature/x'] }));
  assert.equal(repro.ok, false);
  assert.equal(repro.reason, 'the tag release\'s commit is only on branch "feature/x", which matches none of "main"');
  assert.deepEqual(repro.actual, ['feature/x'], 'the check shows where the commit is');
  for (const type of ['tag', 'manual'] as const) {
    assert.equal(evaluate(facts({ policy: production, triggers: [{ type }], commitBranches: ['feature/x', 'main'] })).ok, true, type);
    assert.equal(evaluate(facts({ triggers: [{ type }], commitBranches: ['release/2.0'] })).ok, true, `${type} on a release branch`);
    assert.match(evaluate(facts({ triggers: [{ type }], commitBranches: [] })).reason!, /on no branch of the source repository/);
  }
});

test('unknown branches fail closed for every pattern but "*", with the hint to fetch more history', () => {
  for (const commitBranches of [null, undefined]) {
    for (const type of ['tag', 'manual'] as const) {
      const c = evaluate(facts({ triggers: [{ type }], commitBranches }));
      assert.equal(c.ok, false, `${type} ${commitBranches}`);
      assert.match(c.reason!, /nobody recorded.*fetch-depth: 0/);
      assert.deepEqual(c.actual, []);
    }
  }
  for (const commitBranches of [null, [], ['anything']]) {
    assert.equal(
      evaluate(facts({ policy: dev, triggers: [{ type: 'tag' }], commitBranches })).ok,
      true,
      '* admits any branch, known or not',
    );
  }
  const starStar = { ...staging, allowedBranches: ['**'] };
  assert.equal(
    evaluate(facts({ policy: starStar, triggers: [{ type: 'tag' }], commitBranches: null })).ok,
    false,
    'only the pattern * itself admits the unknown',
  );
  assert.equal(evaluate(facts({ policy: dev, triggers: [{ type: 'branch_push', branch: 'any/thing' }] })).ok, true);
});

test('a release with a branch push and a tag passes when either trigger passes; the failures of both are named', () => {
  const both = [{ type: 'tag' as const }, { type: 'branch_push' as const, branch: 'feature/y' }];
  assert.equal(evaluate(facts({ triggers: both, commitBranches: ['main'] })).ok, true);
  const c = evaluate(facts({ triggers: both, commitBranches: null }));
  assert.equal(c.ok, false);
  assert.match(c.reason!, /nobody recorded.*; branch "feature\/y" matches none/);
});

test('judged on the triggers of accepted types: a passing tag does not excuse a branch when tags are not accepted', () => {
  const branchOnly = { ...production, allowedTriggers: ['branch_push' as const] };
  const c = evaluate(facts({ policy: branchOnly, triggers: [{ type: 'branch_push', branch: 'feature/x' }, { type: 'tag' }] }));
  assert.equal(c.ok, false);
  // with no accepted trigger at all, every trigger is a candidate (the trigger rule fails instead)
  assert.equal(
    evaluate(facts({ policy: { ...production, allowedTriggers: [] }, triggers: [{ type: 'tag' }], commitBranches: ['main'] })).ok,
    true,
  );
  assert.equal(branchesRule.name, 'branches');
});

test('a branch push without a branch name fails', () => {
  assert.deepEqual(evaluate(facts({ triggers: [{ type: 'branch_push', branch: null }] })).actual, ['']);
  assert.equal(evaluate(facts({ triggers: [{ type: 'branch_push', branch: null }] })).ok, false);
});
