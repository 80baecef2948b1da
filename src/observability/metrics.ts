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
