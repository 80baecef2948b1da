/**
 * DORA metrics (issue 15), pure: from the deployments that became active in a time range.
 *   - deployment frequency: deployments per day of the range;
 *   - lead time: median seconds from the release's source commit to its first Healthy;
 *   - change failure rate: share of deployments that were rolled back (the next activation of
 *     the slot was a rollback), turned Degraded, or failed to sync;
 *   - time to restore: median seconds from a failed deployment's failure (degraded or sync
 *     failure, else its replacement's commit) to the next deployment of the slot that became
 *     Healthy.
 * Medians of an even count are the mean of the two middle values. Nulls when nothing to measure.
 */

export interface DoraDeployment {
  environment: string;
  repository: string;
  project: string;
  /** When its pointer commit landed (RFC 3339). */
  committed_at: string;
  /** The release's source commit time (RFC 3339). */
  source_committed_at: string;
  healthy_at: string | null;
  degraded_at: string | null;
  sync_failed_at: string | null;
  rolled_back: boolean;
}

export interface DoraFigures {
  deployments: number;
  deployment_frequency: number;
  lead_time_seconds: number | null;
  change_failure_rate: number | null;
  time_to_restore_seconds: number | null;
  per_day: { day: string; deployments: number; failures: number }[];
}

export function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const failed = (d: DoraDeployment): boolean => d.rolled_back || d.degraded_at !== null || d.sync_failed_at !== null;

/** The figures for `rows` (oldest first by commit) over [from, to). Rounded to 3 decimals (rates, per day) and whole seconds. */
export function doraFigures(rows: DoraDeployment[], from: Date, to: Date): DoraFigures {
  const days = Math.max((to.getTime() - from.getTime()) / 86_400_000, 1 / 86_400);
  const sorted = [...rows].sort((a, b) => Date.parse(a.committed_at) - Date.parse(b.committed_at));
  const lead = sorted
    .filter((d) => d.healthy_at)
    .map((d) => (Date.parse(d.healthy_at!) - Date.parse(d.source_committed_at)) / 1000)
    .filter((s) => s >= 0);
  const restore: number[] = [];
  sorted.forEach((d, i) => {
    if (!failed(d)) return;
    const next = sorted
      .slice(i + 1)
      .find((n) => n.environment === d.environment && n.repository === d.repository && n.project === d.project);
    const since = Date.parse(d.degraded_at ?? d.sync_failed_at ?? next?.committed_at ?? '');
    // restored when a later deployment of the slot became healthy
    const healed = sorted
      .slice(i + 1)
      .find((n) => n.environment === d.environment && n.repository === d.repository && n.project === d.project && n.healthy_at);
    if (healed && !Number.isNaN(since)) restore.push(Math.max(0, (Date.parse(healed.healthy_at!) - since) / 1000));
  });
  const perDay = new Map<string, { deployments: number; failures: number }>();
  for (let t = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()); t < to.getTime(); t += 86_400_000)
    perDay.set(new Date(t).toISOString().slice(0, 10), { deployments: 0, failures: 0 });
  for (const d of sorted) {
    const day = d.committed_at.slice(0, 10);
    const e = perDay.get(day) ?? { deployments: 0, failures: 0 };
    e.deployments++;
    if (failed(d)) e.failures++;
    perDay.set(day, e);
  }
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const lt = median(lead);
  const ttr = median(restore);
  return {
    deployments: sorted.length,
    deployment_frequency: r3(sorted.length / days),
    lead_time_seconds: lt === null ? null : Math.round(lt),
    change_failure_rate: sorted.length ? r3(sorted.filter(failed).length / sorted.length) : null,
    time_to_restore_seconds: ttr === null ? null : Math.round(ttr),
    per_day: [...perDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, v]) => ({ day, ...v })),
  };
}
