/**
 * The approval rule (DESIGN.md §7, `requires_approval` and `approvals`): N active approvals of
 * this release digest for this environment from distinct approvers; expired and revoked ones
 * do not count, nor the deployer's own unless self-approval is allowed.
 */
import type { ApprovalTally, PolicyCheck, PolicyFacts, PolicyInput, PolicyRule } from './rule.js';

/**
 * Who an approval is from (issue #13 upgrade). Approvals recorded before the switch to
 * issuer+sub name an OIDC person by email and have no `approver_display`; one whose approver
 * equals the email another approval's approver showed (`approver_display`) is that person's.
 * This only ever merges two records into one person, never splits one: it cannot add an approver.
 */
export function approverIdentities(approvals: PolicyInput['approvals']): (approver: string) => string {
  const byDisplay = new Map<string, string>();
  for (const a of [...approvals].sort((x, y) => x.approver.localeCompare(y.approver)))
    if (a.approver_display && a.approver_display !== a.approver && !byDisplay.has(a.approver_display))
      byDisplay.set(a.approver_display, a.approver);
  const recordedWithDisplay = new Set(approvals.filter((a) => a.approver_display).map((a) => a.approver));
  return (approver) => (recordedWithDisplay.has(approver) ? approver : (byDisplay.get(approver) ?? approver));
}

/** Sorts approvals into those that count (distinct approvers, sorted) and those that do not, and why. */
export function classifyApprovals(input: Pick<PolicyInput, 'policy' | 'approvals' | 'deployer' | 'now'>): ApprovalTally {
  const identity = approverIdentities(input.approvals);
  const counted = new Set<string>();
  let expired = 0;
  let revoked = 0;
  let self = false;
  let stale = 0;
  for (const a of input.approvals) {
    if (a.revoked_at) revoked++;
    else if (Date.parse(a.expires_at) <= input.now.getTime()) expired++;
    else if (a.stale) stale++;
    else if (identity(a.approver) === input.deployer && !input.policy.approvals.allowSelfApproval) self = true;
    else counted.add(identity(a.approver));
  }
  return { counted: [...counted].sort(), expired, revoked, self, ...(stale ? { stale } : {}) };
}

/** How many approvals the environment needs: 0 when it requires none. */
export function requiredApprovals(policy: PolicyInput['policy']): number {
  return policy.requiresApproval ? policy.approvals.required : 0;
}

export function evaluate(facts: PolicyFacts): PolicyCheck {
  const required = requiredApprovals(facts.policy);
  const { counted, expired, revoked, self, stale } = facts.tally;
  const ok = counted.length >= required;
  const notes = [
    self ? `the deployer's own approval does not count (self-approval is not allowed)` : '',
    expired ? `${expired} expired` : '',
    revoked ? `${revoked} revoked` : '',
    stale ? `${stale} stale: given when the commit was shown on other branches than it is now; approve again` : '',
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
