/**
 * The pin rule (DESIGN.md §8): auto-deploys leave a pinned environment/project alone until it
 * is unpinned. Applies to auto-deploys only (the input carries a pin, or null, only for them).
 */
import type { PolicyCheck, PolicyFacts, PolicyRule } from './rule.js';

export function evaluate(facts: PolicyFacts): PolicyCheck | undefined {
  if (facts.pin === undefined) return undefined;
  const pin = facts.pin;
  return {
    name: 'pin',
    required: 'not pinned',
    actual: pin ? `pinned by ${pin.pinned_by} at ${pin.pinned_at}` : 'not pinned',
    ok: !pin,
    ...(pin
      ? { reason: `the environment/project is pinned${pin.reason ? ` (${pin.reason})` : ''}; auto-deploys resume after \`forge unpin\`` }
      : {}),
  };
}

export const pinRule: PolicyRule = { name: 'pin', evaluate };
