/**
 * What Argo CD reports about a deployment (issue 15), as the dashboard shows it: sync and
 * health in a matrix cell (with drift when Argo CD runs another commit than Forge recorded).
 */
import type { EnvironmentDeployment } from '../api.js';

const HEALTH_CLASS: Record<string, string> = { Healthy: 'ok', Progressing: 'wait', Degraded: 'fail', Missing: 'fail', Suspended: 'wait' };

/** Sync and health of the cell's deployment, as Argo CD spells them; nothing when Argo CD never reported. */
export function ClusterBadge({ d }: { d: Pick<EnvironmentDeployment, 'cluster' | 'deployment_id' | 'gitops_commit_sha'> }) {
  const c = d.cluster;
  if (!c) return null;
  const drift = !!c.revision && (c.deployment_id !== d.deployment_id || !c.revision_is_deployment);
  return (
    <div class="cluster">
      <span
        class={`badge cluster-sync ${c.sync_status === 'Synced' ? 'ok' : 'wait'}`}
        title={`Argo CD sync status, at ${c.revision ?? 'no revision'}`}
      >
        {c.sync_status ?? 'Unknown'}
      </span>
      <span class={`badge cluster-health ${HEALTH_CLASS[c.health_status ?? ''] ?? ''}`} title="Argo CD health status">
        {c.health_status ?? 'Unknown'}
      </span>
      {drift && (
        <span
          class="badge drift fail"
          title={`Argo CD runs ${c.revision?.slice(0, 12)}; Forge recorded ${d.gitops_commit_sha?.slice(0, 12) ?? 'nothing'}`}
        >
          drift
        </span>
      )}
    </div>
  );
}
