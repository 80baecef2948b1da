-- What Argo CD reports about deployments (issue 15): the outcome times of each deployment,
-- the latest observation per slot, and the one-shot claims that keep automatic rollbacks and
-- gate-released auto-deploys to exactly one across replicas.
alter table deployments
  add column synced_at timestamptz,
  add column healthy_at timestamptz,
  add column degraded_at timestamptz,
  add column sync_failed_at timestamptz,
  -- Start of the current unbroken Healthy stretch (null when not Healthy now), and the longest
  -- stretch that already ended, in ms: the verification gate reads these.
  add column healthy_since timestamptz,
  add column healthy_longest_ms bigint not null default 0;

create table argocd_observations (
  environment text not null,
  repository text not null,
  project text not null,
  application text not null,
  sync_status text,
  health_status text,
  revision text,
  operation_phase text,
  operation_finished_at timestamptz,
  reconciled_at timestamptz,
  observed_at timestamptz not null,
  -- Whether the revision was the active deployment's (its commit or a later one with the same pointer): false is drift.
  deployment_id uuid,
  revision_is_deployment boolean not null default false,
  primary key (environment, repository, project)
);

-- One automatic rollback per bad release in an environment: the row is the claim.
create table auto_rollbacks (
  bad_deployment_id uuid primary key references deployments (id),
  environment text not null,
  bad_release_id uuid not null references releases (id),
  cause text not null check (cause in ('degraded', 'sync_failed')),
  claimed_at timestamptz not null default now(),
  rollback_deployment_id uuid references deployments (id),
  outcome text,
  unique (environment, bad_release_id)
);

-- An auto-deploy refused only by a verification gate, released by the sweep once: the row is the claim.
create table gate_releases (
  refused_deployment_id uuid primary key references deployments (id),
  released_at timestamptz not null default now(),
  deployment_id uuid references deployments (id)
);
create index deployments_refused_auto on deployments (environment, recorded_seq) where kind = 'auto' and status = 'failed';
