/** Unit tests of src/core/policy/index.ts: THE rule list, in order, and the one evaluation every caller uses (DESIGN.md §7). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATFORM_CONFIG } from '../../src/core/platform-config.js';
import { evaluatePolicy, POLICY_RULES, type PolicyRule } from '../../src/core/policy/index.js';

const production = DEFAULT_PLATFORM_CONFIG.environments[2].policy;
const LATER = new Date(Date.now() + 3600_000).toISOString();

test('the list, in the order checks are reported', () => {
  assert.deepEqual(
    POLICY_RULES.map((r) => r.name),
    ['triggers', 'branches', 'approvals', 'pin', 'freeze', 'verification'],
  );
});

test('allowed only when every check that applies passes; the counted approvers come with the decision', () => {
  const d = evaluatePolicy({
    policy: production,
    triggers: [{ type: 'tag' }],
    commitBranches: ['main'],
    approvals: [{ approver: 'bob', expires_at: LATER }],
    deployer: 'alice',
    now: new Date(),
  });
  assert.equal(d.allowed, true);
  assert.deepEqual(
    d.checks.map((c) => c.name),
    ['triggers', 'branches', 'approvals'],
  );
  assert.deepEqual(d.approvers, ['bob']);
  const refused = evaluatePolicy({
    policy: production,
    triggers: [{ type: 'tag' }],
    commitBranches: ['main'],
    approvals: [],
    deployer: 'alice',
    now: new Date(),
    pin: null,
  });
  assert.equal(refused.allowed, false);
  assert.deepEqual(
    refused.checks.map((c) => [c.name, c.ok]),
    [
      ['triggers', true],
      ['branches', true],
      ['approvals', false],
      ['pin', true],
    ],
  );
});

test('a new rule is one more entry in the list: its check follows the others', () => {
  const freeze: PolicyRule = {
    name: 'freeze',
    evaluate: () => ({ name: 'freeze', required: 'no freeze', actual: 'frozen', ok: false, reason: 'frozen' }),
  };
  const d = evaluatePolicy(
    {
      policy: production,
      triggers: [{ type: 'tag' }],
      approvals: [{ approver: 'bob', expires_at: LATER }],
      deployer: 'alice',
      now: new Date(),
    },
    [...POLICY_RULES, freeze],
  );
  assert.equal(d.allowed, false);
  assert.deepEqual(
    d.checks.map((c) => c.name),
    ['triggers', 'branches', 'approvals', 'freeze'],
  );
});
