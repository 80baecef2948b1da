/**
 * A deployment's timeline (issue 15): committed → synced → healthy, or degraded / sync failed,
 * as Argo CD reported it, with Argo CD's current sync and health of the slot.
 */
import { type Deployment, get } from '../api.js';
import { useData } from '../data.js';
import { useLive } from '../live.js';
import { Time } from '../ui.js';

type Step = { label: string; at: string | null | undefined; tone: string };

/** The steps of `d`'s timeline in order; a step not reached yet has no time. */
export function timelineSteps(d: Deployment): Step[] {
  const t = d.timeline;
  const steps: Step[] = [
    { label: 'committed', at: t?.committed_at ?? d.finished_at, tone: 'ok' },
    { label: 'synced', at: t?.synced_at, tone: 'ok' },
  ];
  if (t?.sync_failed_at) steps.push({ label: 'sync failed', at: t.sync_failed_at, tone: 'fail' });
  if (t?.healthy_at || !(t?.degraded_at || t?.sync_failed_at)) steps.push({ label: 'healthy', at: t?.healthy_at, tone: 'ok' });
  if (t?.degraded_at) steps.push({ label: 'degraded', at: t.degraded_at, tone: 'fail' });
  return steps;
}

/** The timeline of the deployment active at `base` (`/deployments/{env}/{owner}/{name}/{project}`). */
export function Timeline({ base }: { base: string }) {
  const current = useData(() => get<Deployment>(base), [base]);
  useLive(current.reload);
  const d = current.data;
  if (!d) return null;
  return (
    <div class="timeline-block">
      <ol class="timeline" aria-label={`timeline of deployment ${d.id}`}>
        {timelineSteps(d).map((s) => (
          <li class={s.at ? `reached ${s.tone}` : 'pending'} data-step={s.label}>
            <span class="step">{s.label}</span> {s.at ? <Time at={s.at} /> : <span class="muted">not yet</span>}
          </li>
        ))}
      </ol>
      <p class="meta">
        {d.cluster
          ? `Argo CD: ${d.cluster.sync_status ?? 'Unknown'} / ${d.cluster.health_status ?? 'Unknown'} at ${d.cluster.revision?.slice(0, 12) ?? 'no revision'}${
              d.cluster.revision && (!d.cluster.revision_is_deployment || d.cluster.deployment_id !== d.id)
                ? ' (drift: not this deployment’s commit)'
                : ''
            }`
          : 'Argo CD has not reported this project here yet.'}
      </p>
    </div>
  );
}
