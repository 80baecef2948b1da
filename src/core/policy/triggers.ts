/**
 * The trigger rule (DESIGN.md §7, `allowed_triggers`): the release must have been made by at
 * least one kind of trigger the environment accepts (branch push, tag, manual).
 */
import type { PolicyCheck, PolicyFacts, PolicyRule } from './rule.js';

/** The triggers whose type the environment accepts: the branch rule judges only these, when there are any. */
export function acceptedTriggers(facts: Pick<PolicyFacts, 'policy' | 'triggers'>): PolicyFacts['triggers'] {
  return facts.triggers.filter((t) => facts.policy.allowedTriggers.includes(t.type));
}

export function evaluate(facts: PolicyFacts): PolicyCheck {
  const { policy } = facts;
  const types = [...new Set(facts.triggers.map((t) => t.type))];
  const ok = acceptedTriggers(facts).length > 0;
  return {
    name: 'triggers',
    required: policy.allowedTriggers,
    actual: types,
    ok,
    ...(ok
      ? {}
      : {
          reason: `the release was triggered by ${types.join(', ') || 'nothing'}; this environment accepts ${policy.allowedTriggers.join(', ') || 'no trigger'}`,
        }),
  };
}

export const triggersRule: PolicyRule = { name: 'triggers', evaluate };
