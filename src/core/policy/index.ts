/**
 * Policy evaluation (DESIGN.md §7): THE list of rules, and the one function that runs them.
 * Enforcement (deploy, rollback, auto-deploy), the dry run (POST /policy-checks, which the
 * dashboard reads) and the approval state all go through here. Every check is returned, passed
 * or not, in the order of the list, so a refusal and a dry run read alike.
 *
 * A new rule is one new module beside this one (a pure `evaluate(facts) → PolicyCheck |
 * undefined`, see rule.ts) and one line in POLICY_RULES.
 */
import { approvalsRule, classifyApprovals } from './approvals.js';
import { branchesRule } from './branches.js';
import { freezeRule } from './freeze.js';
import { pinRule } from './pin.js';
import type { PolicyCheck, PolicyFacts, PolicyInput, PolicyRule } from './rule.js';
import { triggersRule } from './triggers.js';
import { verificationGateRule } from './verification-gate.js';

export { approvalsRule, classifyApprovals, requiredApprovals } from './approvals.js';
export { globMatches } from './branches.js';
export type { ApprovalTally, PolicyCheck, PolicyFacts, PolicyInput, PolicyRule } from './rule.js';

/** The rules, in the order their checks are reported. */
export const POLICY_RULES: readonly PolicyRule[] = [triggersRule, branchesRule, approvalsRule, pinRule, freezeRule, verificationGateRule];

export interface PolicyDecision {
  allowed: boolean;
  checks: PolicyCheck[];
  /** The distinct approvers whose approvals count (sorted): recorded on the deployment and in its pointer. */
  approvers: string[];
}

/** The shared facts of one evaluation: the approvals are sorted once, here. */
export function policyFacts(input: PolicyInput): PolicyFacts {
  return { ...input, tally: classifyApprovals(input) };
}

/** Runs every rule of `rules` (default: THE list) over `input`; allowed when every check that applies passes. */
export function evaluatePolicy(input: PolicyInput, rules: readonly PolicyRule[] = POLICY_RULES): PolicyDecision {
  const facts = policyFacts(input);
  const checks = rules.map((r) => r.evaluate(facts)).filter((c): c is PolicyCheck => c !== undefined);
  return { allowed: checks.every((c) => c.ok), checks, approvers: facts.tally.counted };
}
