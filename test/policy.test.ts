import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATFORM_CONFIG, type PromotionPolicy } from '../src/core/platform-config.js';
import { evaluatePolicy, globMatches, type PolicyInput } from '../src/core/policy/index.js';

const [dev, staging, production] = DEFAULT_PLATFORM_CONFIG.environments.map((e) => e.policy);
const NOW = new Date('2026-01-02T00:00:00Z');
const LATER = '2026-01-02T12:00:00Z';
const EARLIER = '2026-01-01T12:00:00Z';

function run(policy: PromotionPolicy, over: Partial<PolicyInput> = {}) {
  return evaluatePolicy({
    policy,
    triggers: [{ type: 'tag' }],
    commitBranches: ['main'],
    approvals: [],
    deployer: 'alice',
    now: NOW,
    ...over,
  });
}
const check = (d: ReturnType<typeof run>, name: string) => d.checks.find((c) => c.name === name)!;

test('globs: * spans any characters including /, ? exactly one, whole-string match', () => {
  assert.ok(globMatches('*', 'feature/a/b'));
  assert.ok(globMatches('release/*', 'release/1.2'));
  assert.ok(globMatches('release/*', 'release/1/2'));
  assert.ok(!globMatches('release/*', 'release'));
  assert.ok(globMatches('v?', 'v1'));
  assert.ok(!globMatches('v?', 'v12'));
  assert.ok(!globMatches('main', 'maintenance'));
  assert.ok(!globMatches('rel.ase', 'relxase'), 'a dot is literal');
});

test('every check is returned with name, required, actual and ok, also when all pass', () => {
  const d = run(staging, { triggers: [{ type: 'branch_push', branch: 'release/1.2' }] });
  assert.equal(d.allowed, true);
  assert.deepEqual(
    d.checks.map((c) => c.name),
    ['triggers', 'branches', 'approvals'],
  );
  assert.deepEqual(check(d, 'triggers'), {
    name: 'triggers',
    required: ['branch_push', 'tag', 'manual'],
    actual: ['branch_push'],
    ok: true,
  });
  assert.deepEqual(check(d, 'branches'), { name: 'branches', required: ['main', 'release/*'], actual: ['release/1.2'], ok: true });
  assert.deepEqual(check(d, 'approvals'), { name: 'approvals', required: 0, actual: 0, ok: true });
});

test('a trigger type the environment does not accept fails the triggers check', () => {
  const d = run(production, { triggers: [{ type: 'branch_push', branch: 'main' }], approvals: [{ approver: 'bob', expires_at: LATER }] });
  assert.equal(d.allowed, false);
  assert.equal(check(d, 'triggers').ok, false);
  assert.match(check(d, 'triggers').reason!, /triggered by branch_push; this environment accepts tag, manual/);
  assert.equal(check(d, 'branches').ok, true);
});

test('a branch outside the globs fails the branches check; tag and manual triggers pass it from a commit on main', () => {
  const d = run(staging, { triggers: [{ type: 'branch_push', branch: 'feature/x' }] });
  assert.equal(d.allowed, false);
  assert.equal(check(d, 'branches').ok, false);
  assert.deepEqual(check(d, 'branches').actual, ['feature/x']);
  assert.equal(run(staging, { triggers: [{ type: 'branch_push', branch: 'feature/x' }, { type: 'tag' }] }).allowed, true);
  assert.equal(run(staging, { triggers: [{ type: 'manual' }] }).allowed, true);
  assert.equal(run(staging, { triggers: [{ type: 'manual' }], commitBranches: ['feature/x'] }).allowed, false, 'issue #13 item 1');
  assert.equal(run(dev, { triggers: [{ type: 'branch_push', branch: 'any/thing/deep' }] }).allowed, true);
});

test('approvals: N distinct active approvers; expired, revoked and self approvals do not count', () => {
  const two: PromotionPolicy = { ...production, approvals: { ...production.approvals, required: 2 } };
  assert.equal(run(production).allowed, false);
  assert.deepEqual(check(run(production), 'approvals'), {
    name: 'approvals',
    required: 1,
    actual: 0,
    ok: false,
    reason: 'needs 1 active approval from distinct approvers, has 0',
  });
  assert.equal(run(production, { approvals: [{ approver: 'bob', expires_at: LATER }] }).allowed, true);
  // the same approver twice is one approver
  const dup = run(two, {
    approvals: [
      { approver: 'bob', expires_at: LATER },
      { approver: 'bob', expires_at: LATER },
    ],
  });
  assert.equal(dup.allowed, false);
  assert.equal(check(dup, 'approvals').actual, 1);
  assert.equal(
    run(two, {
      approvals: [
        { approver: 'bob', expires_at: LATER },
        { approver: 'carol', expires_at: LATER },
      ],
    }).allowed,
    true,
  );
  const expired = run(production, { approvals: [{ approver: 'bob', expires_at: EARLIER }] });
  assert.equal(expired.allowed, false);
  assert.match(check(expired, 'approvals').reason!, /1 expired/);
  const revoked = run(production, { approvals: [{ approver: 'bob', expires_at: LATER, revoked_at: EARLIER }] });
  assert.equal(revoked.allowed, false);
  assert.match(check(revoked, 'approvals').reason!, /1 revoked/);
  const self = run(production, { approvals: [{ approver: 'alice', expires_at: LATER }] });
  assert.equal(self.allowed, false);
  assert.match(check(self, 'approvals').reason!, /own approval does not count/);
  const selfOk: PromotionPolicy = { ...production, approvals: { ...production.approvals, allowSelfApproval: true } };
  assert.equal(run(selfOk, { approvals: [{ approver: 'alice', expires_at: LATER }] }).allowed, true);
});

test('the pin check appears for auto-deploys only and refuses a pinned environment/project', () => {
  assert.equal(
    run(dev).checks.some((c) => c.name === 'pin'),
    false,
  );
  const free = run(dev, { pin: null });
  assert.deepEqual(check(free, 'pin'), { name: 'pin', required: 'not pinned', actual: 'not pinned', ok: true });
  const pinned = run(dev, { pin: { pinned_by: 'alice', pinned_at: EARLIER, reason: 'rollback' } });
  assert.equal(pinned.allowed, false);
  assert.equal(check(pinned, 'pin').ok, false);
  assert.match(check(pinned, 'pin').reason!, /forge unpin/);
});
