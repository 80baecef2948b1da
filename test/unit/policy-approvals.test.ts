/** Unit tests of src/core/policy/approvals.ts: N distinct active approvers, not expired, not revoked, not the deployer's own (DESIGN.md §7). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATFORM_CONFIG } from '../../src/core/platform-config.js';
import { approvalsRule, classifyApprovals, evaluate, requiredApprovals } from '../../src/core/policy/approvals.js';
import { type PolicyInput, policyFacts } from '../../src/core/policy/index.js';

const [dev, , production] = DEFAULT_PLATFORM_CONFIG.environments.map((e) => e.policy);
const NOW = new Date('2026-01-02T00:00:00Z');
const LATER = '2026-01-02T12:00:00Z';
const EARLIER = '2026-01-01T12:00:00Z';
const two = { ...production, approvals: { ...production.approvals, required: 2 } };
const input = (over: Partial<PolicyInput>): PolicyInput => ({
  policy: production,
  triggers: [],
  approvals: [],
  deployer: 'alice',
  now: NOW,
  ...over,
});
const run = (over: Partial<PolicyInput>) => evaluate(policyFacts(input(over)));

test('classifyApprovals: distinct counted approvers (sorted), expired, revoked and self apart', () => {
  const tally = classifyApprovals(
    input({
      approvals: [
        { approver: 'carol', expires_at: LATER },
        { approver: 'bob', expires_at: LATER },
        { approver: 'bob', expires_at: LATER },
        { approver: 'dave', expires_at: EARLIER },
        { approver: 'erin', expires_at: LATER, revoked_at: EARLIER },
        { approver: 'alice', expires_at: LATER },
      ],
    }),
  );
  assert.deepEqual(tally, { counted: ['bob', 'carol'], expired: 1, revoked: 1, self: true });
  // an approval expiring exactly now has expired
  assert.equal(classifyApprovals(input({ approvals: [{ approver: 'bob', expires_at: NOW.toISOString() }] })).expired, 1);
  // nobody in particular asking: nobody's approval is their own
  assert.deepEqual(classifyApprovals(input({ deployer: null, approvals: [{ approver: 'alice', expires_at: LATER }] })).counted, ['alice']);
});

test('required: the rule count when the environment requires approval, else 0', () => {
  assert.equal(requiredApprovals(production), 1);
  assert.equal(requiredApprovals(dev), 0);
  assert.deepEqual(run({ policy: dev }), { name: 'approvals', required: 0, actual: 0, ok: true });
});

test('enough distinct approvers pass; too few fail with the count in words', () => {
  assert.deepEqual(run({ approvals: [{ approver: 'bob', expires_at: LATER }] }), { name: 'approvals', required: 1, actual: 1, ok: true });
  assert.equal(run({}).reason, 'needs 1 active approval from distinct approvers, has 0');
  assert.equal(
    run({
      policy: two,
      approvals: [
        { approver: 'bob', expires_at: LATER },
        { approver: 'bob', expires_at: LATER },
      ],
    }).reason,
    'needs 2 active approvals from distinct approvers, has 1',
  );
});

test('the reason says why approvals did not count', () => {
  const c = run({
    approvals: [
      { approver: 'alice', expires_at: LATER },
      { approver: 'bob', expires_at: EARLIER },
      { approver: 'carol', expires_at: LATER, revoked_at: EARLIER },
    ],
  });
  assert.equal(
    c.reason,
    "needs 1 active approval from distinct approvers, has 0 (the deployer's own approval does not count (self-approval is not allowed); 1 expired; 1 revoked)",
  );
  const selfOk = { ...production, approvals: { ...production.approvals, allowSelfApproval: true } };
  assert.equal(run({ policy: selfOk, approvals: [{ approver: 'alice', expires_at: LATER }] }).ok, true);
  assert.equal(approvalsRule.name, 'approvals');
});
