-- Deployments, approvals and pins (DESIGN.md §7, §8).
create sequence deployment_activation_seq;

create table deployments (
  id uuid primary key,
  release_id uuid not null references releases (id),
  repository text not null,
  project text not null,
  environment text not null,
  kind text not null check (kind in ('deploy', 'rollback', 'auto')),
  status text not null check (status in ('pending', 'active', 'superseded', 'failed')),
  deployed_by text not null,
  deployed_at timestamptz not null,
  reason text,
  approval_ids jsonb not null default '[]',
  approved_by jsonb not null default '[]',
  previous_release_id uuid references releases (id),
  -- What the pending row will write, so that any replica can complete it after a crash.
  pointer_path text,
  pointer_content text,
  commit_message text,
  gitops_commit_sha text,
  -- Set when the deployment became the active one; orders activations for rollback.
  activation_seq bigint,
  finished_at timestamptz,
  error text,
  policy_checks jsonb,
  -- Pending rows only: the replica completing it, and until when.
  lease_owner text,
  lease_expires_at timestamptz,
  recorded_seq bigserial
);
create unique index deployments_one_active on deployments (environment, repository, project) where status = 'active';
create index deployments_history on deployments (environment, repository, project, recorded_seq desc);
create index deployments_activations on deployments (environment, repository, project, activation_seq desc) where activation_seq is not null;
create index deployments_pending on deployments (lease_expires_at) where status = 'pending';
create index deployments_release on deployments (release_id);

create table approvals (
  id uuid primary key,
  release_id uuid not null references releases (id),
  release_digest text not null,
  repository text not null,
  project text not null,
  environment text not null,
  approver text not null,
  justification text not null,
  approved_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_by text
);
create index approvals_binding on approvals (release_digest, environment);
create index approvals_queue on approvals (environment, approved_at desc);

-- An env/project pinned (by a rollback, or by hand) is skipped by auto-deploys until unpinned.
create table pins (
  environment text not null,
  repository text not null,
  project text not null,
  pinned_by text not null,
  pinned_at timestamptz not null default now(),
  reason text,
  deployment_id uuid references deployments (id),
  primary key (environment, repository, project)
);
