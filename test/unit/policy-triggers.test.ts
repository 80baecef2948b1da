/** Unit tests of src/core/policy/triggers.ts: the release must come from a trigger type the environment accepts (DESIGN.md §7). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATFORM_CONFIG } from '../../src/core/platform-config.js';
import { type PolicyInput, policyFacts } from '../../src/core/policy/index.js';
import { acceptedTriggers, evaluate, triggersRule } from '../../src/core/policy/triggers.js';

const [, staging, production] = DEFAULT_PLATFORM_CONFIG.environments.map((e) => e.policy);
const facts = (over: Partial<PolicyInput>) =>
  policyFacts({ policy: production, triggers: [], approvals: [], deployer: 'alice', now: new Date(), ...over });

test('passes when one trigger type is accepted, and lists every type the release has', () => {
  const c = evaluate(facts({ triggers: [{ type: 'branch_push', branch: 'main' }, { type: 'tag' }] }));
  assert.deepEqual(c, { name: 'triggers', required: ['tag', 'manual'], actual: ['branch_push', 'tag'], ok: true });
});

test('fails with the types it has and the types the environment accepts', () => {
  const c = evaluate(
    facts({
      triggers: [
        { type: 'branch_push', branch: 'main' },
        { type: 'branch_push', branch: 'dev' },
      ],
    }),
  );
  assert.equal(c.ok, false);
  assert.deepEqual(c.actual, ['branch_push']);
  assert.equal(c.reason, 'the release was triggered by branch_push; this environment accepts tag, manual');
});

test('a release with no trigger, or an environment accepting none, is named as such', () => {
  assert.equal(evaluate(facts({ triggers: [] })).reason, 'the release was triggered by nothing; this environment accepts tag, manual');
  const none = { ...staging, allowedTriggers: [] };
  assert.match(evaluate(facts({ policy: none, triggers: [{ type: 'tag' }] })).reason!, /accepts no trigger$/);
});

test('acceptedTriggers keeps only the triggers of accepted types (the branch rule judges these)', () => {
  const triggers = [{ type: 'branch_push' as const, branch: 'x' }, { type: 'manual' as const }];
  assert.deepEqual(acceptedTriggers({ policy: production, triggers }), [{ type: 'manual' }]);
  assert.equal(triggersRule.name, 'triggers');
});
