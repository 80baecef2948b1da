/**
 * The branch rule (DESIGN.md §7, `allowed_branches`): a release made by a branch push must come
 * from a branch matching one of the environment's globs; tag and manual triggers carry no
 * branch and pass. Judged on the triggers whose type the environment accepts, so that all
 * checks passing means one single trigger passes both rules.
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

function branchPasses(policy: PromotionPolicy, t: { type: TriggerType; branch?: string | null }): boolean {
  if (t.type !== 'branch_push') return true; // tag and manual triggers carry no branch
  return !!t.branch && policy.allowedBranches.some((g) => globMatches(g, t.branch!));
}

export function evaluate(facts: PolicyFacts): PolicyCheck {
  const { policy } = facts;
  const accepted = acceptedTriggers(facts);
  const candidates = accepted.length ? accepted : facts.triggers;
  const branches = [...new Set(facts.triggers.filter((t) => t.type === 'branch_push').map((t) => t.branch ?? ''))];
  const ok = candidates.some((t) => branchPasses(policy, t));
  return {
    name: 'branches',
    required: policy.allowedBranches,
    actual: branches,
    ok,
    ...(ok
      ? {}
      : {
          reason: `branch ${branches.map((b) => `"${b}"`).join(', ') || '(none)'} matches none of ${policy.allowedBranches.map((g) => `"${g}"`).join(', ') || '(no pattern)'}`,
        }),
  };
}

export const branchesRule: PolicyRule = { name: 'branches', evaluate };
