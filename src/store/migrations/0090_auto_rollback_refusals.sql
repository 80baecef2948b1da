-- Issue 15 follow-up: a failure that is not rolled back automatically because its release was
-- already rolled back automatically in that environment, or because it is itself an automatic
-- rollback, is audited once as refused (deployment.auto_rollback_refused). The row is the claim
-- that keeps it to once across replicas and sweeps.
create table auto_rollback_refusals (
  bad_deployment_id uuid primary key references deployments (id),
  environment text not null,
  cause text not null check (cause in ('degraded', 'sync_failed')),
  reason text not null,
  refused_at timestamptz not null default now()
);
