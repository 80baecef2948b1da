/**
 * The approval rule (DESIGN.md §7, `requires_approval` and `approvals`): N active approvals of
 * this release digest for this environment from distinct approvers; expired and revoked ones
 * do not count, nor the deployer's own unless self-approval is allowed.
 */
import type { ApprovalTally, PolicyCheck, PolicyFacts, PolicyInput, PolicyRule } from './rule.js';

/** Sorts approvals into those that count (distinct approvers, sorted) and those that do not, and why. */
export function classifyApprovals(input: Pick<PolicyInput, 'policy' | 'approvals' | 'deployer' | 'now'>): ApprovalTally {
  const counted = new Set<string>();
  let expired = 0;
  let revoked = 0;
  let self = false;
  for (const a of input.approvals) {
    if (a.revoked_at) revoked++;
    else if (Date.parse(a.expires_at) <= input.now.getTime()) expired++;
    else if (a.approver === input.deployer && !input.policy.approvals.allowSelfApproval) self = true;
    else counted.add(a.approver);
  }
  return { counted: [...counted].sort(), expired, revoked, self };
}

/** How many approvals the environment needs: 0 when it requires none. */
export function requiredApprovals(policy: PolicyInput['policy']): number {
  return policy.requiresApproval ? policy.approvals.required : 0;
}

export function evaluate(facts: PolicyFacts): PolicyCheck {
  const required = requiredApprovals(facts.policy);
  const { counted, expired, revoked, self } = facts.tally;
  const ok = counted.length >= required;
  const notes = [
    self ? `the deployer's own approval does not count (self-approval is not allowed)` : '',
    expired ? `${expired} expired` : '',
    revoked ? `${revoked} revoked` : '',
  ].filter(Boolean);
  return {
    name: 'approvals',
    required,
    actual: counted.length,
    ok,
    ...(ok
      ? {}
      : {
          reason: `needs ${required} active approval${required === 1 ? '' : 's'} from distinct approvers, has ${counted.length}${notes.length ? ` (${notes.join('; ')})` : ''}`,
        }),
  };
}

export const approvalsRule: PolicyRule = { name: 'approvals', evaluate };
