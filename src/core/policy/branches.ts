/**
 * The branch rule (DESIGN.md §7, `allowed_branches`; issue #13 item 1): every release must come
 * from a branch matching one of the environment's globs, whatever started it.
 *   - A branch push: its branch must match.
 *   - A tag or manual release: one of the branches that contain its commit (recorded by the
 *     pipeline from the CI checkout's remote-tracking refs, `commit.branches`) must match. The
 *     pattern `*` admits any branch, known or not; every other pattern fails closed when the
 *     branches are unknown (not reported, a shallow clone, or registered before Forge recorded
 *     them), with a hint to release again from a checkout with the full history.
 * Judged on the triggers whose type the environment accepts, so that all checks passing means
 * one single trigger passes both rules.
 */
import type { PromotionPolicy, TriggerType } from '../platform-config.js';
import type { PolicyCheck, PolicyFacts, PolicyRule } from './rule.js';
import { acceptedTriggers } from './triggers.js';

/** `*` matches any run of characters including `/`, `?` exactly one character; the whole branch must match. */
export function globMatches(glob: string, text: string): boolean {
  let re = '^';
  for (const ch of glob) re += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  return new RegExp(`${re}$`, 's').test(text);
}

const quote = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join(', ');

/** Why trigger `t` fails the rule, or undefined when it passes. */
function failure(
  policy: PromotionPolicy,
  commitBranches: string[] | null,
  t: { type: TriggerType; branch?: string | null },
): string | undefined {
  const globs = policy.allowedBranches;
  const patterns = quote(globs) || '(no pattern)';
  if (t.type === 'branch_push') {
    return t.branch && globs.some((g) => globMatches(g, t.branch!))
      ? undefined
      : `branch ${quote([t.branch ?? ''])} matches none of ${patterns}`;
  }
  if (globs.includes('*')) return undefined;
  if (commitBranches === null) {
    return `the ${t.type} release's commit is on branches nobody recorded (the pipeline sent no commit.branches: a shallow clone, or a release registered before Forge recorded them), so ${patterns} cannot admit it; release it again from a checkout with the full history and its branches (actions/checkout: fetch-depth: 0)`;
  }
  if (commitBranches.some((b) => globs.some((g) => globMatches(g, b)))) return undefined;
  return commitBranches.length
    ? `the ${t.type} release's commit is only on branch ${quote(commitBranches)}, which matches none of ${patterns}`
    : `the ${t.type} release's commit is on no branch of the source repository, so it matches none of ${patterns}`;
}

export function evaluate(facts: PolicyFacts): PolicyCheck {
  const { policy } = facts;
  const commitBranches = facts.commitBranches ?? null;
  const accepted = acceptedTriggers(facts);
  const candidates = accepted.length ? accepted : facts.triggers;
  const pushed = facts.triggers.filter((t) => t.type === 'branch_push').map((t) => t.branch ?? '');
  const where = facts.triggers.some((t) => t.type !== 'branch_push') ? (commitBranches ?? []) : [];
  const branches = [...new Set([...pushed, ...where])];
  const failures = candidates.map((t) => failure(policy, commitBranches, t));
  const ok = failures.some((f) => f === undefined);
  return {
    name: 'branches',
    required: policy.allowedBranches,
    actual: branches,
    ok,
    ...(ok
      ? {}
      : { reason: [...new Set(failures)].join('; ') || `no trigger to judge against ${quote(policy.allowedBranches) || '(no pattern)'}` }),
  };
}

export const branchesRule: PolicyRule = { name: 'branches', evaluate };
