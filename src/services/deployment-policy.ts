/**
 * The policy step of a deployment (DESIGN.md §7): gathers what the rules judge (the release's
 * triggers, its approvals for the environment, the pin for auto-deploys) and runs THE rule list
 * (core/policy) once. Deploy, rollback, auto-deploy and the dry run all decide here.
 */

import type { Release } from '../contract/index.js';
import { ForgeError } from '../core/errors.js';
import type { Environment } from '../core/platform-config.js';
import { evaluatePolicy, type PolicyDecision } from '../core/policy/index.js';
import * as approvals from '../store/approvals.js';
import type { Db } from '../store/db.js';
import * as pins from '../store/pins.js';

export interface DeploymentDecision extends PolicyDecision {
  /** The ids of the active approvals that counted, recorded on the deployment. */
  approvalIds: string[];
}

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
): Promise<DeploymentDecision> {
  const found = await approvals.approvalsFor(ctx.db, release.oci_digest, env.name);
  const pin = auto ? ((await pins.getPin(ctx.db, env.name, release.repository, release.project)) ?? null) : undefined;
  const decision = evaluatePolicy({ policy: env.policy, triggers: release.triggers, approvals: found, deployer, now: new Date(), pin });
  const approvalIds = found.filter((a) => a.status === 'active' && decision.approvers.includes(a.approver)).map((a) => a.id);
  return { ...decision, approvalIds };
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
