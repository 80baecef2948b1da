/**
 * The policy step of a deployment (DESIGN.md §7): gathers what the rules judge (the release's
 * triggers, its approvals for the environment, the pin for auto-deploys) and runs THE rule list
 * (core/policy) once. Deploy, rollback, auto-deploy and the dry run all decide here.
 */

import type { Release, ResolvedRelease } from '../contract/index.js';
import { ForgeError } from '../core/errors.js';
import type { FreezeAction } from '../core/freeze-windows.js';
import type { Environment } from '../core/platform-config.js';
import { evaluatePolicy, type PolicyDecision, type PolicyInput } from '../core/policy/index.js';
import * as approvals from '../store/approvals.js';
import * as breakGlass from '../store/break-glass.js';
import * as clusterOutcomes from '../store/cluster-outcomes.js';
import type { Db } from '../store/db.js';
import * as pins from '../store/pins.js';
import { markStaleApprovals } from './approval-context.js';

export interface DeploymentDecision extends PolicyDecision {
  /** The ids of the active approvals that counted, recorded on the deployment. */
  approvalIds: string[];
  /** The break-glass grant that let it through a freeze window (the freeze check's), recorded on the deployment; null when none did. */
  breakGlassId: string | null;
}

/**
 * `action`: what kind of deployment this is for the freeze rule's `applies_to` (default
 * `manual`; `auto` when the `auto` argument is true; rollbacks, automatic ones included, pass
 * `rollback`). `at`: evaluate at another moment (the dry run's `at`); default now.
 */
export interface DecisionOptions {
  action?: FreezeAction;
  at?: Date;
}

/**
 * What the rules judge besides the policy and the release, read from the database: the release's
 * approvals for the environment (any state), the pin (auto-deploys only), the break-glass grants
 * (when the environment has freeze windows) and the healthy stretches of each verification gate.
 * decideDeployment reads them for one deployment; read models (services/overview.ts) read them
 * for many at once. Either way decideFrom judges them.
 */
export interface DecisionFacts {
  approvals: (PolicyInput['approvals'][number] & { id: string; status: string; context?: unknown })[];
  pin?: PolicyInput['pin'];
  breakGlass: { id: string; granted_by: string; granted_at: string; expires_at: string }[];
  verification: NonNullable<PolicyInput['verification']>;
}

/** What of a release the rules read. */
export type PolicyRelease = Pick<Release, 'triggers'> & { source: Pick<Release['source'], 'branches'> };

/**
 * Evaluates the policy of `env` for `release` asked by `deployer`. `auto` adds the pin rule's
 * input (auto-deploys only). Reads the database; never throws a refusal (see `policyDenied`).
 */
export async function decideDeployment(
  ctx: { db: Db },
  env: Environment,
  release: Release,
  deployer: string,
  auto: boolean,
  opts: DecisionOptions = {},
): Promise<DeploymentDecision> {
  const found = await approvals.approvalsFor(ctx.db, release.oci_digest, env.name);
  const pin = auto ? ((await pins.getPin(ctx.db, env.name, release.repository, release.project)) ?? null) : undefined;
  const breakGlassGrants = (env.freezeWindows ?? []).length
    ? (await breakGlass.grantsFor(ctx.db, release.id, release.oci_digest, env.name)).map((g) => ({
        id: g.id,
        granted_by: g.granted_by!,
        granted_at: g.granted_at!,
        expires_at: g.expires_at!,
      }))
    : [];
  const verification = await Promise.all(
    (env.policy.requires ?? []).map(async (g) => {
      const stretch = await clusterOutcomes.healthyStretch(ctx.db, release.id, g.environment);
      return { environment: g.environment, healthyForMs: g.healthyForMs, healthySince: stretch.since, longestMs: stretch.longestMs };
    }),
  );
  return decideFrom(env, release, deployer, auto, { approvals: found, pin, breakGlass: breakGlassGrants, verification }, opts);
}

/** THE rule list over facts already read (see DecisionFacts): pure. `deployer` null: nobody in particular (no approval is anyone's own). */
export function decideFrom(
  env: Environment,
  release: PolicyRelease,
  deployer: string | null,
  auto: boolean,
  facts: DecisionFacts,
  opts: DecisionOptions = {},
): DeploymentDecision {
  const found = markStaleApprovals(facts.approvals, release);
  const windows = env.freezeWindows ?? [];
  const freeze = windows.length
    ? { windows, action: auto ? ('auto' as const) : (opts.action ?? 'manual'), breakGlass: facts.breakGlass }
    : undefined;
  const now = opts.at ?? new Date();
  const decision = evaluatePolicy({
    policy: env.policy,
    triggers: release.triggers,
    commitBranches: release.source.branches ?? null,
    approvals: found,
    deployer,
    now,
    pin: auto ? (facts.pin ?? null) : undefined,
    freeze,
    verification: facts.verification,
  });
  const approvalIds = found.filter((a) => a.status === 'active' && !a.stale && decision.approvers.includes(a.approver)).map((a) => a.id);
  const freezeCheck = decision.checks.find((c) => c.name === 'freeze');
  const grant = (freezeCheck?.actual as { break_glass?: { id?: unknown } } | undefined)?.break_glass?.id;
  return { ...decision, approvalIds, breakGlassId: freezeCheck?.ok && typeof grant === 'string' ? grant : null };
}

/** The 403 `policy_denied` for a refused decision: every failed check in the message, every check in the details. */
export function policyDenied(env: Environment, release: Release, decision: PolicyDecision): ForgeError {
  const failed = decision.checks.filter((c) => !c.ok);
  return new ForgeError(
    'policy_denied',
    `release ${release.release_number} of ${release.repository}/${release.project} may not be deployed to ${env.name}: ${failed.map((c) => `${c.name}: ${c.reason}`).join('; ')}`,
    { checks: decision.checks },
  );
}

/** How an answer names the release a reference resolved to (issue #12 item 7): number, commit, aliases. */
export function resolvedRelease(release: Release): ResolvedRelease {
  return {
    release_number: release.release_number,
    commit_sha: release.commit_sha,
    aliases: release.aliases.filter((a) => a.alias_type !== 'numeric').map((a) => a.alias),
    canonical_id: release.canonical_id,
  };
}
