/**
 * The overview's queries (GET /overview, issue #18): a page of projects with their latest
 * release, and what the policy rules read about many latest releases at once (their approvals
 * and break-glass grants), each in one round trip however many projects the page holds.
 */
import type { Alias, Release, Trigger } from '../contract/index.js';
import type { Db } from './db.js';

/** A project's latest release, with what the matrix shows of it and what the policy rules read. */
export interface LatestRelease {
  id: string;
  repository: string;
  project: string;
  release_number: number;
  commit_sha: string;
  oci_digest: string;
  created_at: string;
  /** Tags and branch aliases in the order given (the number is not among them). */
  aliases: Alias[];
  triggers: Trigger[];
  source: Release['source'];
}

/** Which projects: `repository` lower-case, `project` exact, `search` a lower-case piece of `repository/project`. */
export interface ProjectFilter {
  repository?: string;
  project?: string;
  search?: string;
}

/** Rows after (`repository`, `project`) in that order, else after skipping `offset`; `limit` null: all. */
export interface ProjectWindow {
  after?: { repository: string; project: string };
  offset: number;
  limit: number | null;
}

/** The filter on the projects table's row `p`. */
const FILTER = `($1::text is null or p.repository = $1) and ($2::text is null or p.project = $2)
  and ($3::text is null or strpos(lower(p.repository || '/' || p.project), $3) > 0)`;

type Row = Omit<LatestRelease, 'aliases' | 'triggers' | 'source'> & {
  alias_rows: Alias[] | string;
  trigger_rows: Trigger[] | string;
  source_branches: string | null;
  source_author: string | null;
  source_message: string | null;
  source_committed_at: string | null;
  source_url: string | null;
};
const json = <T>(v: T | string): T => (typeof v === 'string' ? JSON.parse(v) : v);

const ISO = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The projects matching `filter`, ordered by repository and project, each with its latest
 * release (highest number), one window of them; and how many match in all. Reads the projects
 * table (migration 0170: each project's latest release), never every release. The window comes
 * back as one JSON value (the embedded engine hands over one value far faster than many rows).
 */
export async function latestReleases(
  db: Db,
  filter: ProjectFilter,
  window: ProjectWindow,
): Promise<{ items: LatestRelease[]; total: number }> {
  const params = [filter.repository ?? null, filter.project ?? null, filter.search ?? null];
  const [{ rows, total }] = await db.query<{ rows: string | Row[]; total: number }>(
    `with latest as (
       select r.id, r.repository, r.project, r.release_number, r.commit_sha, r.oci_digest,
         r.created_at, r.source_branches, r.source_author, r.source_message, r.source_committed_at, r.source_url
       from projects p join releases r on r.id = p.latest_release_id
       where ${FILTER} and ($4::text is null or (p.repository, p.project) > ($4::text, $5::text))
       order by p.repository, p.project
       limit $6 offset $7
     ), names as (
       select a.release_id, json_agg(json_build_object('alias', a.alias, 'alias_type', a.alias_type) order by a.created_at, a.alias) as aliases
       from release_aliases a where a.release_id in (select id from latest) group by a.release_id
     ), runs as (
       select t.release_id, json_agg(json_build_object('type', t.type, 'branch', t.branch, 'tag', t.tag, 'triggered_by', t.triggered_by,
           'triggered_at', ${ISO('t.triggered_at')}) order by t.position) as triggers
       from release_triggers t where t.release_id in (select id from latest) group by t.release_id
     )
     select coalesce(json_agg(json_build_object(
         'id', l.id, 'repository', l.repository, 'project', l.project, 'release_number', l.release_number, 'commit_sha', l.commit_sha,
         'oci_digest', l.oci_digest, 'created_at', ${ISO('l.created_at')}, 'source_branches', l.source_branches,
         'source_author', l.source_author, 'source_message', l.source_message,
         'source_committed_at', ${ISO('l.source_committed_at')}, 'source_url', l.source_url,
         'alias_rows', coalesce(names.aliases, '[]'), 'trigger_rows', coalesce(runs.triggers, '[]')
       ) order by l.repository, l.project), '[]')::text as rows,
       (select count(*)::int from projects p where ${FILTER}) as total
     from latest l left join names on names.release_id = l.id left join runs on runs.release_id = l.id`,
    [...params, window.after?.repository ?? null, window.after?.project ?? null, window.limit, window.offset],
  );
  return {
    total,
    items: json(rows).map(
      ({ alias_rows, trigger_rows, source_branches, source_author, source_message, source_committed_at, source_url, ...r }) => ({
        ...r,
        aliases: json(alias_rows),
        triggers: json(trigger_rows),
        source: {
          author: source_author ?? null,
          message: source_message ?? null,
          committed_at: source_committed_at ?? null,
          url: source_url ?? null,
          branches: source_branches ? (JSON.parse(source_branches) as string[]) : null,
        },
      }),
    ),
  };
}

/** An approval as the policy rules read it. */
export interface ApprovalFact {
  id: string;
  release_digest: string;
  environment: string;
  approver: string;
  approver_display: string | null;
  expires_at: string;
  revoked_at: string | null;
  context: unknown;
}

/** Every approval, in any state, of any of `digests` for any of `environments`, newest first. */
export async function approvalsOf(db: Db, digests: string[], environments: string[]): Promise<ApprovalFact[]> {
  if (!digests.length || !environments.length) return [];
  const rows = await db.query<ApprovalFact>(
    `select a.id, a.release_digest, a.environment, a.approver, a.approver_display, a.expires_at, a.revoked_at, a.context
     from approvals a where a.release_digest = any($1::text[]) and a.environment = any($2::text[])
     order by a.approved_at desc`,
    [digests, environments],
  );
  return rows.map((a) => ({
    ...a,
    expires_at: new Date(a.expires_at).toISOString(),
    revoked_at: a.revoked_at ? new Date(a.revoked_at).toISOString() : null,
  }));
}

/** A granted break-glass as the freeze rule reads it. */
export interface GrantFact {
  id: string;
  release_id: string;
  release_digest: string;
  environment: string;
  granted_by: string;
  granted_at: string;
  expires_at: string;
}

/** The granted break-glasses of any of `releaseIds`, newest first. */
export async function grantsOf(db: Db, releaseIds: string[]): Promise<GrantFact[]> {
  if (!releaseIds.length) return [];
  const rows = await db.query<GrantFact>(
    `select id, release_id, release_digest, environment, granted_by, granted_at, expires_at from break_glass
     where release_id = any($1::uuid[]) and granted_at is not null order by granted_at desc`,
    [releaseIds],
  );
  return rows.map((g) => ({ ...g, granted_at: new Date(g.granted_at).toISOString(), expires_at: new Date(g.expires_at).toISOString() }));
}
