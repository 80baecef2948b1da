-- The project list without scanning every release (issue #18): one row per repository and
-- project with its latest release (highest number) and how many releases it has. A statement
-- trigger on releases keeps it in the transaction that inserts releases, one upsert per project
-- a statement inserted (registration inserts one release; the bench seed a project's batch).
-- Releases are never deleted nor renumbered, so insertions are all it has to follow; the row
-- lock of the upsert orders concurrent registrations of one project.
create table projects (
  repository text not null,
  project text not null,
  latest_release_id uuid not null references releases (id),
  latest_release_number integer not null,
  release_count integer not null,
  primary key (repository, project)
);

insert into projects (repository, project, latest_release_id, latest_release_number, release_count)
select distinct on (repository, project) repository, project, id, release_number, count(*) over (partition by repository, project)
from releases
order by repository, project, release_number desc;

create function projects_follow_releases() returns trigger language plpgsql as $$
begin
  insert into projects as p (repository, project, latest_release_id, latest_release_number, release_count)
  select distinct on (repository, project) repository, project, id, release_number, count(*) over (partition by repository, project)
  from inserted
  order by repository, project, release_number desc
  on conflict (repository, project) do update set
    latest_release_id = case when excluded.latest_release_number > p.latest_release_number
      then excluded.latest_release_id else p.latest_release_id end,
    latest_release_number = greatest(excluded.latest_release_number, p.latest_release_number),
    release_count = p.release_count + excluded.release_count;
  return null;
end
$$;

create trigger releases_follow_projects after insert on releases
  referencing new table as inserted for each statement execute function projects_follow_releases();
