/**
 * The freeze rule (issue #16, spec §Policies & Approvals): while a freeze window of the
 * environment is in force and applies to this kind of deployment (auto, manual, rollback), the
 * deployment is refused, unless it is a manual deployment or rollback and a break-glass grant
 * for this very release in this environment is in force at that moment (auto-deploys stay
 * frozen; a window's `applies_to` decides whether they are frozen at all). Applies only where
 * the environment has freeze windows.
 */
import { activeFreezes, type FreezeOccurrence, formatInZone } from '../freeze-windows.js';
import type { PolicyCheck, PolicyFacts, PolicyRule } from './rule.js';

function describe(o: FreezeOccurrence): string {
  const local = o.timezone ? ` (${o.timezone})` : '';
  return `"${o.name}" until ${formatInZone(o.end, o.timezone)}${local}`;
}

export function evaluate(facts: PolicyFacts): PolicyCheck | undefined {
  const freeze = facts.freeze;
  if (!freeze || freeze.windows.length === 0) return undefined;
  const active = activeFreezes(freeze.windows, facts.now, freeze.action);
  const required = `no freeze window in force for ${freeze.action} deployments${freeze.action === 'auto' ? '' : ', or a break-glass grant for this release'}`;
  if (active.length === 0) return { name: 'freeze', required, actual: 'not frozen', ok: true };
  const windows = active.map((o) => ({
    window: o.name,
    from: o.start.toISOString(),
    until: o.end.toISOString(),
    timezone: o.timezone ?? null,
  }));
  const now = facts.now.getTime();
  // A grant is asked for by a person for a deployment of theirs: auto-deploys stay frozen.
  const grant = (freeze.action === 'auto' ? [] : (freeze.breakGlass ?? [])).find(
    (g) => new Date(g.granted_at).getTime() <= now && now < new Date(g.expires_at).getTime(),
  );
  if (grant) {
    return {
      name: 'freeze',
      required,
      actual: { frozen: windows, break_glass: { id: grant.id, granted_by: grant.granted_by, expires_at: grant.expires_at } },
      ok: true,
    };
  }
  return {
    name: 'freeze',
    required,
    actual: { frozen: windows },
    ok: false,
    reason: `frozen by window ${active.map(describe).join(' and ')}; ${freeze.action} deployments are refused until then${freeze.action === 'auto' ? '' : ' unless a break-glass for this release is granted (forge break-glass request)'}`,
  };
}

export const freezeRule: PolicyRule = { name: 'freeze', evaluate };
