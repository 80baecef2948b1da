/** The release aggregate: releases with their aliases and triggers, and reference resolution. */
import type { Artifact, AutoDeployment, Page, Release, Trigger } from '../contract/index.js';
import { type Alias, referenceForms } from '../core/aliases.js';
import { cutPage, type PageWindow } from '../core/cursor.js';
import { ForgeError } from '../core/errors.js';
import type { Db } from './db.js';
import { lockSubject } from './lock-keys.js';
import type { SigningKeyState } from './signing-keys.js';

const ISO = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const SELECT = `
select r.*,
  coalesce((select json_agg(json_build_object('alias', a.alias, 'alias_type', a.alias_type) order by a.created_at, a.alias)
            from release_aliases a where a.release_id = r.id), '[]') as alias_rows,
  coalesce((select json_agg(json_build_object('type', t.type, 'branch', t.branch, 'tag', t.tag,
              'triggered_by', t.triggered_by, 'triggered_at', ${ISO('t.triggered_at')}) order by t.position)
            from release_triggers t where t.release_id = r.id), '[]') as trigger_rows,
  coalesce((select json_agg(json_build_object('id', d.id, 'environment', d.environment, 'status', d.status) order by d.deployed_at, d.environment)
            from deployments d where d.release_id = r.id and d.kind = 'auto'), '[]') as auto_rows
from releases r`;

type Row = Record<string, unknown> & {
  alias_rows: Alias[] | string;
  trigger_rows: Trigger[] | string;
  auto_rows: AutoDeployment[] | string;
};

const json = <T>(v: T | string): T => (typeof v === 'string' ? JSON.parse(v) : v);

function toRelease(row: Row): Release {
  const number = row.release_number as number;
  return {
    id: row.id as string,
    canonical_id: `${row.repository}/${row.project}/${row.commit_sha}`,
    repository: row.repository as string,
    project: row.project as string,
    commit_sha: row.commit_sha as string,
    release_number: number,
    oci_uri: row.oci_uri as string,
    oci_digest: row.oci_digest as string,
    resources_digest: row.resources_digest as string,
    created_at: row.created_at as string,
    created_by: row.created_by as string,
    source: {
      author: (row.source_author as string) ?? null,
      message: (row.source_message as string) ?? null,
      committed_at: (row.source_committed_at as string) ?? null,
      url: (row.source_url as string) ?? null,
      branches: row.source_branches ? (JSON.parse(row.source_branches as string) as string[]) : null,
    },
    pipeline_run_id: (row.pipeline_run_id as string) ?? null,
    triggers: json(row.trigger_rows),
    aliases: [{ alias: String(number), alias_type: 'numeric' }, ...json(row.alias_rows)],
    artifacts: json(row.artifacts as Artifact[] | string),
    auto_deployments: json(row.auto_rows),
    signature: row.signature_digest ? { digest: row.signature_digest as string, key_id: row.signature_key_id as string } : null,
  };
}

async function one(db: Db, where: string, params: unknown[]): Promise<Release | undefined> {
  const [row] = await db.query<Row>(`${SELECT} where ${where}`, params);
  return row && toRelease(row);
}

/** Serialises registrations of one project across every replica until the transaction ends. */
export async function lockProject(tx: Db, repository: string, project: string): Promise<void> {
  await lockSubject(tx, 'releaseRegistration', `${repository}/${project}`);
}

export function findBySha(db: Db, repository: string, project: string, sha: string) {
  return one(db, 'r.repository = $1 and r.project = $2 and r.commit_sha = $3', [repository, project, sha]);
}

export function findById(db: Db, id: string) {
  return one(db, 'r.id = $1', [id]);
}

/**
 * What planning a registration reads, in one round trip (issue 18: registration at registry
 * speed): the id of the project's release of commit `sha` (or null), the next release number,
 * the branches the project has released from (branch_push triggers; core/aliases.ts's tag
 * rule), and which of the aliases a new release would assert already name a release of the
 * project: the `tags`, and the branch alias `<branchPrefix>-<next>` (core/aliases.ts
 * branchAlias, formed here the same way) when `branchPrefix` is given; and, given
 * `signingKeyId`, that key's row (store/signing-keys.ts signingKeyState: undefined when the
 * installation has no such key), checked before the release is signed.
 */
export async function registrationState(
  db: Db,
  repository: string,
  project: string,
  sha: string,
  aliases: { tags: string[]; branchPrefix?: string },
  signingKeyId?: string,
): Promise<{ existingId: string | null; next: number; branches: string[]; owners: AliasOwner[]; signingKey?: SigningKeyState }> {
  const [row] = await db.query<{
    existing_id: string | null;
    next: number;
    branches: string[];
    owners: AliasOwner[] | string;
    key_exists: boolean;
    key_retired_at: string | null;
  }>(
    `with n as (select coalesce(max(release_number), 0) + 1 as next from releases where repository = $1 and project = $2)
     select (select id from releases where repository = $1 and project = $2 and commit_sha = $3) as existing_id,
            n.next,
            array(select distinct t.branch from release_triggers t join releases r on r.id = t.release_id
                   where r.repository = $1 and r.project = $2 and t.type = 'branch_push' and t.branch is not null) as branches,
            coalesce((select json_agg(json_build_object('alias', a.alias, 'release_id', a.release_id, 'release_number', r.release_number))
                        from release_aliases a join releases r on r.id = a.release_id
                       where a.repository = $1 and a.project = $2
                         and (a.alias = any($4::text[]) or ($5::text is not null and a.alias = $5::text || '-' || n.next))), '[]') as owners,
            exists (select 1 from signing_keys where key_id = $6::text) as key_exists,
            (select retired_at from signing_keys where key_id = $6::text) as key_retired_at
       from n`,
    [repository, project, sha, aliases.tags, aliases.branchPrefix ?? null, signingKeyId ?? null],
  );
  return {
    existingId: row.existing_id,
    next: row.next,
    branches: row.branches,
    owners: json(row.owners),
    ...(signingKeyId === undefined ? {} : { signingKey: row.key_exists ? { retired_at: row.key_retired_at } : undefined }),
  };
}

/** A release of the project holding an alias. */
export interface AliasOwner {
  alias: string;
  release_id: string;
  release_number: number;
}

export async function nextReleaseNumber(tx: Db, repository: string, project: string): Promise<number> {
  const [row] = await tx.query<{ n: number }>(
    'select coalesce(max(release_number), 0) + 1 as n from releases where repository = $1 and project = $2',
    [repository, project],
  );
  return row.n;
}

/** Which of these aliases already name a release of the project, and which release. */
export async function aliasOwners(db: Db, repository: string, project: string, aliases: string[]) {
  if (!aliases.length) return [];
  return db.query<AliasOwner>(
    `select a.alias, a.release_id, r.release_number from release_aliases a join releases r on r.id = a.release_id
     where a.repository = $1 and a.project = $2 and a.alias = any($3::text[])`,
    [repository, project, aliases],
  );
}

/** What registration writes: the stored columns of a release, with the source fields optional. */
export type NewRelease = Pick<
  Release,
  | 'id'
  | 'repository'
  | 'project'
  | 'commit_sha'
  | 'release_number'
  | 'oci_uri'
  | 'oci_digest'
  | 'resources_digest'
  | 'created_by'
  | 'artifacts'
> & {
  source: Partial<Release['source']>;
  pipeline_run_id?: string | null;
};

/**
 * Inserts a release, and in the same statement (one round trip; issue 18, registration at
 * registry speed) what a registration records with it: its signature (signed now), its
 * non-numeric aliases and its first trigger. A unique violation (an alias taken meanwhile)
 * fails the whole statement, as separate inserts would fail the transaction. Returns the
 * release as findById would read it after (a new release has no auto-deployments yet).
 */
export async function insertRelease(
  tx: Db,
  r: NewRelease,
  withIt: { signature?: { digest: string; key_id: string }; aliases?: Alias[]; trigger?: Omit<Trigger, 'triggered_at'> } = {},
): Promise<Release> {
  const aliases = (withIt.aliases ?? []).filter((a) => a.alias_type !== 'numeric');
  const t = withIt.trigger;
  const [row] = await tx.query<Row>(
    `with r as (
       insert into releases (id, repository, project, commit_sha, release_number, oci_uri, oci_digest, resources_digest,
         created_by, source_author, source_message, source_committed_at, source_url, pipeline_run_id, artifacts, source_branches,
         signature_digest, signature_key_id, signed_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
         $17::text, $18::text, case when $17::text is null then null else clock_timestamp() end)
       returning *
     ), a as (
       insert into release_aliases (release_id, repository, project, alias, alias_type)
       select r.id, r.repository, r.project, x.alias, x.alias_type from r, unnest($19::text[], $20::text[]) as x(alias, alias_type)
       returning alias, alias_type, created_at
     ), t as (
       insert into release_triggers (release_id, position, type, branch, tag, triggered_by)
       select r.id, 1, $21::text, $22::text, $23::text, $24::text from r where $21::text is not null
       returning *
     )
     -- the row as SELECT reads it (the inserted rows are not visible to a read in the same statement)
     select r.*,
       coalesce((select json_agg(json_build_object('alias', a.alias, 'alias_type', a.alias_type) order by a.created_at, a.alias)
                 from a), '[]') as alias_rows,
       coalesce((select json_agg(json_build_object('type', t.type, 'branch', t.branch, 'tag', t.tag,
                   'triggered_by', t.triggered_by, 'triggered_at', ${ISO('t.triggered_at')}) order by t.position)
                 from t), '[]') as trigger_rows,
       '[]' as auto_rows
     from r`,
    [
      r.id,
      r.repository,
      r.project,
      r.commit_sha,
      r.release_number,
      r.oci_uri,
      r.oci_digest,
      r.resources_digest,
      r.created_by,
      r.source.author ?? null,
      r.source.message ?? null,
      r.source.committed_at ?? null,
      r.source.url ?? null,
      r.pipeline_run_id ?? null,
      JSON.stringify(r.artifacts),
      r.source.branches ? JSON.stringify(r.source.branches) : null,
      withIt.signature?.digest ?? null,
      withIt.signature?.key_id ?? null,
      aliases.map((a) => a.alias),
      aliases.map((a) => a.alias_type),
      t?.type ?? null,
      t?.branch ?? null,
      t?.tag ?? null,
      t?.triggered_by ?? null,
    ],
  );
  return toRelease(row);
}

/** Replaces the branches known to contain a release's commit (a later pipeline run's observation; issue #13 item 1). */
export async function setCommitBranches(tx: Db, releaseId: string, branches: string[]): Promise<void> {
  await tx.query('update releases set source_branches = $2 where id = $1', [releaseId, JSON.stringify(branches)]);
}

export async function insertAliases(tx: Db, release: { id: string; repository: string; project: string }, aliases: Alias[]) {
  for (const a of aliases) {
    if (a.alias_type === 'numeric') continue;
    await tx.query('insert into release_aliases (release_id, repository, project, alias, alias_type) values ($1, $2, $3, $4, $5)', [
      release.id,
      release.repository,
      release.project,
      a.alias,
      a.alias_type,
    ]);
  }
}

export async function insertTrigger(tx: Db, releaseId: string, t: Omit<Trigger, 'triggered_at'>): Promise<void> {
  await tx.query(
    `insert into release_triggers (release_id, position, type, branch, tag, triggered_by)
     values ($1, (select coalesce(max(position), 0) + 1 from release_triggers where release_id = $1), $2, $3, $4, $5)`,
    [releaseId, t.type, t.branch, t.tag, t.triggered_by],
  );
}

/**
 * Resolves `{ref}` (DESIGN.md §3, issue #13 item 3): a full-length sha (40 or 64 hex) always
 * means that commit. Otherwise every reading of `ref` — exact tag/branch alias, release number,
 * sha prefix of at least 7 hex characters — is a candidate; when they all name one release, that
 * is it, when they name several it is 409 ambiguous_reference (an alias never shadows a number or
 * a sha, nor a prefix several commits), and when none, 404.
 */
export async function resolveRelease(db: Db, repository: string, project: string, ref: string): Promise<Release> {
  const forms = referenceForms(ref);
  // One round trip: every reading of `ref` is a candidate; a full sha (rank 0) excludes the rest.
  const rows = await db.query<Row & { kinds: string[] | string }>(
    `with candidates as (
       select id, 0 as rank, 'commit' as kind from releases where repository = $1 and project = $2 and $6::text is not null and commit_sha = $6::text
       union all
       select release_id as id, 1, 'alias' from release_aliases where repository = $1 and project = $2 and alias = $3
       union all
       select id, 2, 'number' from releases where repository = $1 and project = $2 and release_number = $4::int
       union all
       (select id, 3, 'sha prefix' from releases where repository = $1 and project = $2 and $5::text is not null and commit_sha like $5::text || '%'
        order by release_number desc limit 11)
     ), best as (
       select id, json_agg(kind order by rank) as kinds from candidates
       where rank = 0 or not exists (select 1 from candidates where rank = 0) group by id
     )
     ${SELECT.replace('select r.*,', 'select r.*, best.kinds,')} join best on best.id = r.id order by r.release_number desc`,
    [repository, project, ref, forms.number ?? null, forms.shaPrefix ?? null, forms.fullSha ?? null],
  );
  if (rows.length === 1) return toRelease(rows[0]);
  if (rows.length > 1)
    throw ambiguousReference(
      repository,
      project,
      ref,
      rows.map((r) => ({ commit_sha: r.commit_sha as string, release_number: r.release_number as number, as: json(r.kinds) })),
    );
  // a project is known from its first release: say so when there is none, not that the reference is wrong
  const [known] = await db.query('select 1 from releases where repository = $1 and project = $2 limit 1', [repository, project]);
  throw unknownReference(repository, project, ref, !!known);
}

/** One reading of an ambiguous reference: the release it names and as what (alias, number, sha prefix). */
export interface ReferenceReading {
  commit_sha: string;
  release_number: number;
  as: string[];
}

/**
 * 409 ambiguous_reference for `ref`, naming the first ten of `readings` (newest first, as
 * resolveRelease orders them): shared with the resolution cache (services/release-cache.ts).
 */
export function ambiguousReference(repository: string, project: string, ref: string, readings: ReferenceReading[]): ForgeError {
  const shown = readings.slice(0, 10);
  return new ForgeError(
    'ambiguous_reference',
    `"${ref}" matches several releases of ${repository}/${project} (${shown.map((c) => `release ${c.release_number} as ${c.as.join(' and ')}`).join(', ')}); give the full sha, or more of it`,
    { candidates: shown },
  );
}

/** 404 not_found for `ref`: no such project (`projectKnown` false: it has no release), or no release of it by that name. */
export function unknownReference(repository: string, project: string, ref: string, projectKnown: boolean): ForgeError {
  if (!projectKnown)
    return new ForgeError(
      'not_found',
      `no project ${repository}/${project}: it has no release (a project is known from its first registered release); check the repository and project names`,
      { repository, project },
    );
  return new ForgeError(
    'not_found',
    `no release of ${repository}/${project} is named "${ref}" (tried tag and branch aliases, release numbers and sha prefixes of at least 7 characters)`,
  );
}

/**
 * Up to `limit` releases of a project, newest first, whole (the resolution cache loads a
 * project's releases at once: services/release-cache.ts).
 */
export async function projectReleases(db: Db, repository: string, project: string, limit: number): Promise<Release[]> {
  const rows = await db.query<Row>(`${SELECT} where r.repository = $1 and r.project = $2 order by r.release_number desc limit $3`, [
    repository,
    project,
    limit,
  ]);
  return rows.map(toRelease);
}

/**
 * A page of a project's releases, newest first (release_number desc, unique in the project):
 * after the release number `window.after[0]`, else after skipping `window.offset`, with
 * `total` from the projects table (migration 0170) instead of counting the project's releases.
 * Walks the unique index on (repository, project, release_number) (test/explain.test.ts).
 */
export async function listReleases(db: Db, repository: string, project: string, window: PageWindow): Promise<Page<Release>> {
  const after = window.after === undefined ? [] : [window.after[0]];
  // The page's ids first: the aliases, triggers and auto-deployments are then read for its rows
  // only, not for every row an offset skips.
  const rows = await db.query<Row>(
    `${SELECT} join (select id from releases where repository = $1 and project = $2 ${after.length ? 'and release_number < $5' : ''}
       order by release_number desc limit $3 offset $4) p on p.id = r.id
     order by r.release_number desc`,
    [repository, project, window.limit + 1, window.offset, ...after],
  );
  const [count] = await db.query<{ total: number }>('select release_count as total from projects where repository = $1 and project = $2', [
    repository,
    project,
  ]);
  const page = cutPage(rows, window.limit, (row) => [row.release_number as number]);
  return { items: page.items.map(toRelease), total: count?.total ?? 0, next: page.next };
}

/**
 * A page of every repository and project with its latest release, by repository then project
 * (the database's collation): after the pair `window.after`, else after skipping
 * `window.offset`. Reads the projects table (migration 0170: one row per project, kept by a
 * trigger on releases), never every release; `total` counts its rows.
 */
export async function listProjects(
  db: Db,
  window: PageWindow,
): Promise<Page<{ repository: string; project: string; latest_release: Release }>> {
  const after = window.after === undefined ? [] : window.after;
  const rows = await db.query<Row>(
    `${SELECT} join (select latest_release_id from projects ${after.length ? 'where (repository, project) > ($3, $4)' : ''}
       order by repository, project limit $1 offset $2) p on p.latest_release_id = r.id
     order by r.repository, r.project`,
    [window.limit + 1, window.offset, ...after],
  );
  const [{ total }] = await db.query<{ total: number }>('select count(*)::int as total from projects');
  const page = cutPage(rows, window.limit, (row) => [row.repository as string, row.project as string]);
  return {
    items: page.items.map((row) => {
      const latest = toRelease(row);
      return { repository: latest.repository, project: latest.project, latest_release: latest };
    }),
    total,
    next: page.next,
  };
}
