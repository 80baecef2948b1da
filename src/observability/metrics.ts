/**
 * Prometheus metrics (names prefixed `forge_`). Each replica counts what it did; Prometheus
 * adds replicas up. Counting is the only thing kept in process memory, and nothing reads it
 * back for a decision.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'forge_' });

export const httpDuration = new Histogram({
  name: 'forge_http_request_duration_seconds',
  help: 'HTTP request latency by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metrics],
});

export const releasesTotal = new Counter({
  name: 'forge_releases_total',
  help: 'Release registrations by outcome (created, existing, failed)',
  labelNames: ['outcome'] as const,
  registers: [metrics],
});

export const deploymentsTotal = new Counter({
  name: 'forge_deployments_total',
  help: 'Deployments by kind (deploy, rollback, auto) and outcome (active, superseded, failed, refused)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [metrics],
});

export const gitopsPushRetries = new Counter({
  name: 'forge_gitops_push_retries_total',
  help: 'GitOps pushes retried after a non-fast-forward or a transient error',
  registers: [metrics],
});

export const registryErrors = new Counter({
  name: 'forge_registry_errors_total',
  help: 'Registry requests that failed (unreachable, timeout, refused, digest mismatch)',
  registers: [metrics],
});

/** Issue 15: seconds from a deployment's pointer commit to Argo CD reporting it Synced. */
export const commitToSynced = new Histogram({
  name: 'forge_deployment_commit_to_synced_seconds',
  help: 'Seconds from the pointer commit landing to Argo CD reporting the deployment Synced',
  labelNames: ['environment'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [metrics],
});

/** Issue 15: seconds from Synced to the first Healthy. */
export const syncedToHealthy = new Histogram({
  name: 'forge_deployment_synced_to_healthy_seconds',
  help: 'Seconds from Argo CD reporting a deployment Synced to its first Healthy',
  labelNames: ['environment'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [metrics],
});

/** Issue 15: Argo CD Applications received (pushed or polled) that match no Forge slot. */
export const argocdUnmatched = new Counter({
  name: 'forge_argocd_unmatched_applications_total',
  help: 'Argo CD Applications received whose source path matches no environment/project Forge manages',
  labelNames: ['source'] as const,
  registers: [metrics],
});

/** Issue 15: Argo CD polls by outcome (ok, unavailable). */
export const argocdPolls = new Counter({
  name: 'forge_argocd_polls_total',
  help: 'Polls of the Argo CD API by outcome (ok, unavailable)',
  labelNames: ['outcome'] as const,
  registers: [metrics],
});
