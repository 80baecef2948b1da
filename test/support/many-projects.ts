/**
 * Many projects at once, for the overview's browser test and bench/overview.ts (issue #18):
 * the rows the read models read, written straight into the database (registering each release
 * through the registry would take most of a run). Projects `svc-0000`… in repositories
 * `bench/repo-00`… (50 each), two releases each (tags v1.0.0 and v1.1.0, tag triggers, commit on
 * main); release 2 active in dev (auto, release 1's deployment there superseded), release 1 in
 * staging and production; every tenth project's release 2 approved for production by
 * bob@bench.test. Into an empty database; pointers in git are not written (bench/overview.ts
 * writes them).
 */
import type { Db } from '../../src/store/db.js';

/** The name of project number `p`. */
export const seededProject = (p: number) => `svc-${String(p).padStart(4, '0')}`;

export async function seedProjects(db: Db, projects: number): Promise<void> {
  const REPO = `'bench/repo-' || lpad((p / 50)::text, 2, '0')`;
  const PROJECT = `'svc-' || lpad(p::text, 4, '0')`;
  await db.query(
    `insert into releases (id, repository, project, commit_sha, release_number, oci_uri, oci_digest, resources_digest, created_by,
       source_author, source_message, source_branches, created_at)
     select md5('r-' || p || '-' || n)::uuid, ${REPO}, ${PROJECT}, md5('c-' || p || '-' || n) || substr(md5('x-' || p || '-' || n), 1, 8), n,
       'oci://bench/' || p || '/' || n, 'sha256:' || encode(sha256(('d-' || p || '-' || n)::bytea), 'hex'), 'sha256:' || repeat('0', 64), 'ci',
       'Carol <carol@bench.test>', 'change ' || n, '["main"]', now() - interval '2 days' + n * interval '1 hour'
     from generate_series(0, $1::int - 1) p, generate_series(1, 2) n`,
    [projects],
  );
  await db.query(
    `insert into release_aliases (release_id, repository, project, alias, alias_type, created_at)
     select id, repository, project, 'v1.' || (release_number - 1) || '.0', 'tag', created_at from releases`,
  );
  await db.query(
    `insert into release_triggers (release_id, position, type, tag, triggered_by, triggered_at)
     select id, 0, 'tag', 'v1.' || (release_number - 1) || '.0', 'ci', created_at from releases`,
  );
  // dev: release 1 superseded by release 2 (auto); staging and production: release 1 (deploy)
  await db.query(
    `insert into deployments (id, release_id, repository, project, environment, kind, status, deployed_by, deployed_at, activation_seq, finished_at)
     select md5('d-' || r.id || '-' || e.env)::uuid, r.id, r.repository, r.project, e.env,
       case when e.env = 'dev' then 'auto' else 'deploy' end,
       case when e.env = 'dev' and r.release_number = 1 then 'superseded' else 'active' end,
       case when e.env = 'dev' then 'forge:auto-deploy' else 'alice@bench.test' end,
       r.created_at + interval '5 minutes', nextval('deployment_activation_seq'), r.created_at + interval '5 minutes'
     from releases r cross join (values ('dev'), ('staging'), ('production')) e(env)
     where e.env = 'dev' or r.release_number = 1
     order by r.created_at`,
  );
  await db.query(
    `insert into approvals (id, release_id, release_digest, repository, project, environment, approver, justification, expires_at)
     select md5('a-' || id)::uuid, id, oci_digest, repository, project, 'production', 'bob@bench.test', 'reviewed', now() + interval '1 day'
     from releases where release_number = 2 and substr(project, 8, 1) = '0'`,
  );
}
