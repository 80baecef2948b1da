/**
 * The verification gate (issue 15, `promotion_policy.requires`): the release must have been
 * Healthy, as Argo CD reported it, in each named environment, continuously, for at least
 * `healthy_for`. A stretch still running answers when the gate will be met ("eligible at …").
 * Applies only when the environment lists requirements and the caller gathered the facts.
 */
import type { PolicyCheck, PolicyFacts, PolicyRule } from './rule.js';

/** A time as RFC 3339 in UTC, to the millisecond (`2026-11-30T14:05:07.250Z`): "eligible at" never drops the seconds. */
function utc(ms: number): string {
  return new Date(ms).toISOString();
}

/** `3_600_000` → `1h`, `5_400_000` → `1h30m`, `45_000` → `45s`. */
export function formatDuration(ms: number): string {
  let s = Math.round(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d ? `${d}d` : ''}${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}` || '0s';
}

/** One requirement's standing: met, or not yet (with when, if the stretch is running), or not at all. */
export function gateStanding(
  gate: NonNullable<PolicyFacts['verification']>[number],
  now: Date,
): { ok: boolean; eligibleAt: string | null; reason?: string } {
  const need = gate.healthyForMs;
  const running = gate.healthySince ? now.getTime() - Date.parse(gate.healthySince) : -1;
  if (gate.longestMs >= need || running >= need) return { ok: true, eligibleAt: null };
  const want = `must have been healthy in ${gate.environment} for ${formatDuration(need)}`;
  if (gate.healthySince) {
    const at = Date.parse(gate.healthySince) + need;
    return {
      ok: false,
      eligibleAt: new Date(at).toISOString(),
      reason: `${want}; healthy there since ${utc(Date.parse(gate.healthySince))}: eligible at ${utc(at)}`,
    };
  }
  return {
    ok: false,
    eligibleAt: null,
    reason: `${want}; it is not healthy there now (deploy it there first, or wait until Argo CD reports it Healthy)`,
  };
}

export function evaluate(facts: PolicyFacts): PolicyCheck | undefined {
  const gates = facts.verification;
  if (!gates?.length) return undefined;
  const standings = gates.map((g) => ({ g, s: gateStanding(g, facts.now) }));
  const failed = standings.filter((x) => !x.s.ok);
  return {
    name: 'verification',
    required: gates.map((g) => ({ environment: g.environment, healthy_for_seconds: g.healthyForMs / 1000 })),
    actual: standings.map(({ g, s }) => ({
      environment: g.environment,
      healthy_since: g.healthySince,
      longest_healthy_seconds: Math.floor(g.longestMs / 1000),
      met: s.ok,
      eligible_at: s.eligibleAt,
    })),
    ok: failed.length === 0,
    ...(failed.length ? { reason: failed.map((x) => x.s.reason).join('; ') } : {}),
  };
}

export const verificationGateRule: PolicyRule = { name: 'verification', evaluate };
