-- Release trains (issue #17): a named, immutable set of (repository, project, release) members,
-- each resolved once, when the train is created, to a release id and digest. Deploying a train
-- puts every member's pointer into one GitOps commit; each member's deployment row names the
-- train and the train deployment it belongs to. A train deployment's status and commit are
-- read from its members' rows (they are the outbox: pending -> active | superseded | failed).
create table trains (
  id uuid primary key,
  name text not null unique,
  created_by text not null,
  created_at timestamptz not null default now(),
  seq bigserial not null
);

create table train_members (
  train_id uuid not null references trains(id),
  position integer not null,
  release_id uuid not null references releases(id),
  repository text not null,
  project text not null,
  release_digest text not null,
  primary key (train_id, position),
  unique (train_id, repository, project)
);

create table train_deployments (
  id uuid primary key,
  train_id uuid not null references trains(id),
  environment text not null,
  kind text not null check (kind in ('deploy', 'rollback')),
  deployed_by text not null,
  deployed_at timestamptz not null default now(),
  reason text,
  -- a rollback: the train deployment it undid
  rolls_back uuid references train_deployments(id),
  seq bigserial not null
);
create index train_deployments_train on train_deployments (train_id, seq desc);

alter table deployments add column train_id uuid references trains(id);
alter table deployments add column train_deployment_id uuid references train_deployments(id);
create index deployments_train_deployment on deployments (train_deployment_id) where train_deployment_id is not null;
