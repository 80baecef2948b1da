/**
 * What a policy rule is (DESIGN.md §7): a pure function from the facts of a would-be deployment
 * to one check, passed or not, or nothing when the rule does not apply to this deployment. The
 * rules themselves are one module each beside this one; `index.ts` holds the list.
 */
import type { FreezeAction, FreezeWindow } from '../freeze-windows.js';
import type { PromotionPolicy, TriggerType } from '../platform-config.js';

/** One rule's verdict, as the API shows it (a refusal and a dry run read alike). */
export interface PolicyCheck {
  /** The rule's name: `triggers`, `branches`, `approvals`, `pin`, … (clients read it). */
  name: string;
  required: unknown;
  actual: unknown;
  ok: boolean;
  /** Why the check failed, in words; absent when it passed. */
  reason?: string;
}

/** What the caller knows about the would-be deployment. */
export interface PolicyInput {
  policy: PromotionPolicy;
  /** The release's triggers; it is admitted if any one trigger passes the trigger and branch rules. */
  triggers: { type: TriggerType; branch?: string | null }[];
  /**
   * The branches that contain the release's commit, as its pipeline reported them for a tag or
   * manual release (issue #13 item 1); null or absent = unknown. The branch rule checks tag and
   * manual triggers against it.
   */
  commitBranches?: string[] | null;
  /** Approvals of this release digest for this environment, in any state. */
  approvals: {
    approver: string;
    approver_display?: string | null;
    expires_at: string;
    revoked_at?: string | null;
    /** Given when the release showed other branches than now (services/approval-context.ts markStaleApprovals): does not count. */
    stale?: boolean;
  }[];
  /** Who asks for the deployment; null when nobody in particular (a read of the approval state). */
  deployer: string | null;
  now: Date;
  /** Present for auto-deploys only: the pin on the environment/project, or null. */
  pin?: { pinned_by: string; pinned_at: string; reason?: string | null } | null;
  /**
   * The verification gates of the environment (issue 15, `requires`) with this release's healthy
   * stretches in each required environment: the start of the one still running (RFC 3339) or
   * null, and the longest that ended, ms. Absent or empty: the gate does not apply.
   */
  verification?: { environment: string; healthyForMs: number; healthySince: string | null; longestMs: number }[];
  /**
   * The environment's freeze windows (issue #16), what kind of deployment this is, and the
   * break-glass grants of this release in this environment (any state; the rule checks that
   * `granted_at <= now < expires_at`). Absent: the freeze rule does not apply.
   */
  freeze?: {
    windows: readonly FreezeWindow[];
    action: FreezeAction;
    breakGlass?: readonly { id: string; granted_by: string; granted_at: string; expires_at: string }[];
  };
}

/** The approvals sorted once per evaluation: the distinct approvers who count (sorted), and why the others do not. */
export interface ApprovalTally {
  counted: string[];
  expired: number;
  revoked: number;
  /** The deployer's own approval was there and self-approval is not allowed. */
  self: boolean;
  /** Active approvals given when the commit was shown on other branches (review F5). */
  stale?: number;
}

/** The input with what every rule may share, computed once. */
export interface PolicyFacts extends PolicyInput {
  tally: ApprovalTally;
}

export interface PolicyRule {
  /** The name of the check it returns. */
  name: string;
  /** The check, or undefined when the rule does not apply (e.g. the pin, outside auto-deploys). Pure. */
  evaluate(facts: PolicyFacts): PolicyCheck | undefined;
}
