-- Releases, their aliases and triggers (DESIGN.md §3, §6), and the hash-chained audit log (§11).
create table releases (
  id uuid primary key,
  repository text not null,
  project text not null,
  commit_sha text not null,
  release_number integer not null,
  oci_uri text not null,
  oci_digest text not null,
  resources_digest text not null,
  created_at timestamptz not null default now(),
  created_by text not null,
  source_author text,
  source_message text,
  source_committed_at timestamptz,
  source_url text,
  pipeline_run_id text,
  artifacts jsonb not null default '[]',
  unique (repository, project, commit_sha),
  unique (repository, project, release_number)
);
create index releases_project_created on releases (repository, project, release_number desc);
create index releases_sha_prefix on releases (repository, project, commit_sha text_pattern_ops);

-- Tag and branch aliases. Numbers live in releases.release_number, their own namespace.
create table release_aliases (
  release_id uuid not null references releases (id),
  repository text not null,
  project text not null,
  alias text not null,
  alias_type text not null check (alias_type in ('tag', 'branch')),
  created_at timestamptz not null default now(),
  primary key (repository, project, alias)
);
create index release_aliases_release on release_aliases (release_id);

create table release_triggers (
  release_id uuid not null references releases (id),
  position integer not null,
  type text not null check (type in ('branch_push', 'tag', 'manual')),
  branch text,
  tag text,
  triggered_by text not null,
  triggered_at timestamptz not null default now(),
  primary key (release_id, position)
);

create table audit_log (
  seq bigint primary key,
  at timestamptz not null,
  actor text not null,
  action text not null,
  subject text not null,
  details jsonb not null default '{}',
  prev_hash text not null,
  hash text not null
);
