/**
 * Policy evaluation (DESIGN.md §7): one function answers whether a release may go to an
 * environment and returns every check, passed or not, so a refusal and a dry run read alike.
 */
import type { PromotionPolicy, TriggerType } from './platform-config.js';

export interface PolicyCheck {
  name: 'triggers' | 'branches' | 'approvals' | 'pin';
  required: unknown;
  actual: unknown;
  ok: boolean;
  /** Why the check failed, in words; absent when it passed. */
  reason?: string;
}

export interface PolicyInput {
  policy: PromotionPolicy;
  /** The release's triggers; it is admitted if any one trigger passes the trigger and branch rules. */
  triggers: { type: TriggerType; branch?: string | null }[];
  /** Approvals of this release digest for this environment, in any state. */
  approvals: { approver: string; expires_at: string; revoked_at?: string | null }[];
  /** Who asks for the deployment. */
  deployer: string;
  now: Date;
  /** Present for auto-deploys only: the pin on the environment/project, or null. */
  pin?: { pinned_by: string; pinned_at: string; reason?: string | null } | null;
}

export interface PolicyDecision {
  allowed: boolean;
  checks: PolicyCheck[];
}

/** `*` matches any run of characters including `/`, `?` exactly one character; the whole branch must match. */
export function globMatches(glob: string, text: string): boolean {
  let re = '^';
  for (const ch of glob) re += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  return new RegExp(`${re}$`, 's').test(text);
}

function branchPasses(policy: PromotionPolicy, t: { type: TriggerType; branch?: string | null }): boolean {
  if (t.type !== 'branch_push') return true; // tag and manual triggers carry no branch
  return !!t.branch && policy.allowedBranches.some((g) => globMatches(g, t.branch!));
}

export function evaluatePolicy(input: PolicyInput): PolicyDecision {
  const { policy } = input;
  const checks: PolicyCheck[] = [];

  const types = [...new Set(input.triggers.map((t) => t.type))];
  const typeAllowed = input.triggers.filter((t) => policy.allowedTriggers.includes(t.type));
  checks.push({
    name: 'triggers',
    required: policy.allowedTriggers,
    actual: types,
    ok: typeAllowed.length > 0,
    ...(typeAllowed.length ? {} : { reason: `the release was triggered by ${types.join(', ') || 'nothing'}; this environment accepts ${policy.allowedTriggers.join(', ') || 'no trigger'}` }),
  });

  // The branch rule is judged on the triggers whose type is allowed, so that all checks passing
  // means one single trigger passes both rules.
  const candidates = typeAllowed.length ? typeAllowed : input.triggers;
  const branches = [...new Set(input.triggers.filter((t) => t.type === 'branch_push').map((t) => t.branch ?? ''))];
  const branchOk = candidates.some((t) => branchPasses(policy, t));
  checks.push({
    name: 'branches',
    required: policy.allowedBranches,
    actual: branches,
    ok: branchOk,
    ...(branchOk ? {} : { reason: `branch ${branches.map((b) => `"${b}"`).join(', ') || '(none)'} matches none of ${policy.allowedBranches.map((g) => `"${g}"`).join(', ') || '(no pattern)'}` }),
  });

  const rule = policy.approvals;
  const required = policy.requiresApproval ? rule.required : 0;
  const { counted, expired, revoked, self } = classifyApprovals(input);
  const approvalsOk = counted.length >= required;
  const notes = [
    self ? `the deployer's own approval does not count (self-approval is not allowed)` : '',
    expired ? `${expired} expired` : '',
    revoked ? `${revoked} revoked` : '',
  ].filter(Boolean);
  checks.push({
    name: 'approvals',
    required,
    actual: counted.length,
    ok: approvalsOk,
    ...(approvalsOk ? {} : { reason: `needs ${required} active approval${required === 1 ? '' : 's'} from distinct approvers, has ${counted.length}${notes.length ? ` (${notes.join('; ')})` : ''}` }),
  });

  if (input.pin !== undefined) {
    const pin = input.pin;
    checks.push({
      name: 'pin',
      required: 'not pinned',
      actual: pin ? `pinned by ${pin.pinned_by} at ${pin.pinned_at}` : 'not pinned',
      ok: !pin,
      ...(pin ? { reason: `the environment/project is pinned${pin.reason ? ` (${pin.reason})` : ''}; auto-deploys resume after \`forge unpin\`` } : {}),
    });
  }
  return { allowed: checks.every((c) => c.ok), checks };
}

/** Sorts approvals into those that count (distinct approvers, sorted) and those that do not, and why. */
export function classifyApprovals(input: Pick<PolicyInput, 'policy' | 'approvals' | 'deployer' | 'now'>) {
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
