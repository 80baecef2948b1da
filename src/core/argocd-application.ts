/**
 * Argo CD `Application` objects, as Argo CD's REST API returns them (`GET
 * /api/v1/applications/{name}`, items of `GET /api/v1/applications`) and as its notifications
 * render them with `{{toJson .app}}` (issue 15). Pure: parsing, matching to a Forge slot, and
 * reading the facts Forge uses.
 *
 * The shape is taken field by field from Argo CD's published API schema, `assets/swagger.json`
 * of argoproj/argo-cd at version 3.6.0 (definitions `v1alpha1Application`,
 * `v1alpha1ApplicationSpec`, `v1alpha1ApplicationSource`, `v1alpha1ApplicationStatus`,
 * `v1alpha1SyncStatus`, `v1alpha1AppHealthStatus`, `v1alpha1OperationState`,
 * `v1alpha1SyncOperationResult`, `v1ObjectMeta`; times are `v1Time`, RFC 3339 strings). The REST
 * API leaves out `apiVersion`/`kind`; the notifications' `.app` (an unstructured Kubernetes
 * object) carries them: when present they must be `argoproj.io/…` and `Application`.
 *
 * Values are kept as Argo CD spells them: sync `Synced`, `OutOfSync`, `Unknown`; health
 * `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing`, `Unknown`; operation phase
 * `Running`, `Succeeded`, `Failed`, `Error`, `Terminating`.
 */

import { parseRfc3339, rfc3339Problem } from './rfc3339.js';

/** What Forge reads from one Application. Absent fields are null. */
export interface ApplicationFacts {
  /** metadata.name */
  name: string;
  /** metadata.namespace, or null. */
  namespace: string | null;
  /** spec.source.path and each spec.sources[].path, in that order, without empty ones. */
  paths: string[];
  /**
   * spec.source and each spec.sources[] (`index` its place in spec.sources, null for
   * spec.source), with their repoURL and path (null when absent): what an Application is matched on.
   */
  sources: { repoURL: string | null; path: string | null; index: number | null }[];
  /** status.sync.revisions: a multi-source Application's revisions, one per spec.sources[] (null when absent). */
  syncRevisions: string[] | null;
  /** status.operationState.syncResult.revisions: likewise for the last sync operation. */
  syncResultRevisions: string[] | null;
  /** status.sync.status */
  syncStatus: string | null;
  /** status.sync.revision: the GitOps commit Argo CD compared against. */
  syncRevision: string | null;
  /** status.health.status */
  healthStatus: string | null;
  /** status.operationState.phase */
  operationPhase: string | null;
  /** status.operationState.finishedAt (RFC 3339). */
  operationFinishedAt: string | null;
  /** status.operationState.syncResult.revision: the commit the last sync operation applied (or tried). */
  syncResultRevision: string | null;
  /** status.reconciledAt (RFC 3339): when Argo CD last compared; orders observations. */
  reconciledAt: string | null;
}

export type ParsedApplication = { ok: true; app: ApplicationFacts } | { ok: false; problems: { path: string; message: string }[] };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Longest string field Forge keeps (names, paths, revisions, phases): longer is not an Application Argo CD produced. */
const MAX_FIELD = 1024;

/**
 * Parses a JSON value as an Application. A 400-worthy problem (answered with every problem,
 * `path` in dotted form): not an object; `kind` present and not `Application`; `apiVersion`
 * present and not `argoproj.io/…`; `metadata`, `spec` or `status` present and not objects;
 * `metadata.name` missing or not a string; a field Forge reads of the wrong type (a string
 * where the schema says string, an object where it says object, an array for `sources`); a
 * time that is not RFC 3339. Unknown fields are ignored (Argo CD adds fields between versions).
 */
export function parseApplication(body: unknown): ParsedApplication {
  const problems: { path: string; message: string }[] = [];
  const bad = (path: string, message: string) => problems.push({ path, message });
  if (!isObject(body)) return { ok: false, problems: [{ path: '(body)', message: 'expected an Argo CD Application object' }] };
  if (body.kind !== undefined && body.kind !== 'Application') bad('kind', `expected "Application", found ${JSON.stringify(body.kind)}`);
  if (body.apiVersion !== undefined && !(typeof body.apiVersion === 'string' && body.apiVersion.startsWith('argoproj.io/')))
    bad('apiVersion', 'expected argoproj.io/v1alpha1');
  const obj = (v: unknown, path: string, required = false): Record<string, unknown> => {
    if (v === undefined || v === null) {
      if (required) bad(path, 'is required: expected an object');
      return {};
    }
    if (!isObject(v)) {
      bad(path, 'expected an object');
      return {};
    }
    return v;
  };
  const str = (v: unknown, path: string, required = false): string | null => {
    if (v === undefined || v === null || (v === '' && !required)) {
      if (required) bad(path, 'is required: expected a string');
      return null;
    }
    if (typeof v !== 'string') {
      bad(path, 'expected a string');
      return null;
    }
    if (v.length > MAX_FIELD) {
      bad(path, `longer than ${MAX_FIELD} characters`);
      return null;
    }
    return v;
  };
  const time = (v: unknown, path: string): string | null => {
    const s = str(v, path);
    if (s === null) return null;
    const at = parseRfc3339(s);
    if (!at) {
      bad(path, rfc3339Problem(s)!);
      return null;
    }
    return at.toISOString();
  };
  const metadata = obj(body.metadata, 'metadata', true);
  const spec = obj(body.spec, 'spec');
  const status = obj(body.status, 'status');
  const name = str(metadata.name, 'metadata.name', true);
  const namespace = str(metadata.namespace, 'metadata.namespace');
  const paths: string[] = [];
  const sources: ApplicationFacts['sources'] = [];
  const source = obj(spec.source, 'spec.source');
  const p0 = str(source.path, 'spec.source.path');
  if (p0) paths.push(p0);
  if (spec.source !== undefined && spec.source !== null)
    sources.push({ repoURL: str(source.repoURL, 'spec.source.repoURL'), path: p0, index: null });
  if (spec.sources !== undefined && spec.sources !== null) {
    if (!Array.isArray(spec.sources)) bad('spec.sources', 'expected an array');
    else if (spec.sources.length > 100) bad('spec.sources', 'more than 100 sources');
    else
      spec.sources.forEach((s, i) => {
        const one = obj(s, `spec.sources[${i}]`);
        const p = str(one.path, `spec.sources[${i}].path`);
        if (p) paths.push(p);
        sources.push({ repoURL: str(one.repoURL, `spec.sources[${i}].repoURL`), path: p, index: i });
      });
  }
  /** An array of revisions (status.sync.revisions, syncResult.revisions): null when absent. */
  const revisions = (v: unknown, path: string): string[] | null => {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v)) {
      bad(path, 'expected an array of strings');
      return null;
    }
    if (v.length > 100) {
      bad(path, 'more than 100 revisions');
      return null;
    }
    return v.map((r, i) => str(r, `${path}[${i}]`) ?? '');
  };
  const sync = obj(status.sync, 'status.sync');
  const health = obj(status.health, 'status.health');
  const op = obj(status.operationState, 'status.operationState');
  const result = obj(op.syncResult, 'status.operationState.syncResult');
  const app: ApplicationFacts = {
    name: name ?? '',
    namespace,
    paths,
    sources,
    syncRevisions: revisions(sync.revisions, 'status.sync.revisions'),
    syncResultRevisions: revisions(result.revisions, 'status.operationState.syncResult.revisions'),
    syncStatus: str(sync.status, 'status.sync.status'),
    syncRevision: str(sync.revision, 'status.sync.revision'),
    healthStatus: str(health.status, 'status.health.status'),
    operationPhase: str(op.phase, 'status.operationState.phase'),
    operationFinishedAt: time(op.finishedAt, 'status.operationState.finishedAt'),
    syncResultRevision: str(result.revision, 'status.operationState.syncResult.revision'),
    reconciledAt: time(status.reconciledAt, 'status.reconciledAt'),
  };
  return problems.length ? { ok: false, problems } : { ok: true, app };
}

/** A Forge slot: one project of one repository in one environment. */
export interface Slot {
  environment: string;
  repository: string;
  project: string;
}

/**
 * The slot an Application deploys, from its source path in the GitOps repository:
 * `<env>/apps/<owner>/<name>/<project>` (a leading `./` or `/` and a trailing `/` are
 * tolerated), the environment one of `environments`. The first path of `paths` that matches
 * wins; undefined when none does (an application Forge does not manage).
 */
export function matchSlot(paths: string[], environments: readonly string[]): Slot | undefined {
  for (const raw of paths) {
    const parts = raw
      .replace(/^\.?\//, '')
      .replace(/\/+$/, '')
      .split('/');
    if (parts.length !== 5 || parts[1] !== 'apps' || parts.some((p) => p === '' || p === '.' || p === '..')) continue;
    const [environment, , owner, name, project] = parts;
    if (!environments.includes(environment)) continue;
    return { environment, repository: `${owner}/${name}`.toLowerCase(), project };
  }
  return undefined;
}

/**
 * A Git repository URL reduced to what identifies the repository, so the spellings Argo CD
 * users write for one repository compare equal (issue 15): the host in lower case, without
 * user info and default ports (http 80, https 443, ssh 22, git 9418), the path without trailing
 * slashes and one trailing `.git`; the transport is not part of it, so
 * `https://Git.example.com/acme/gitops.git`, `ssh://git@git.example.com/acme/gitops` and
 * `git@git.example.com:acme/gitops` are one repository (the same host serves one repository
 * per path whatever the protocol). The path keeps its case (some servers are case-sensitive),
 * and a non-default port stays, so those differences never match. A local path (`/srv/x.git`,
 * `file:///srv/x.git`) is kept as it is, apart from trailing slashes: `.git` is part of a
 * directory's name. Anything else compares as the trimmed text.
 */
export function normalizeRepoUrl(raw: string): string {
  const s = raw.trim();
  const local = /^file:\/\/(\/.*)$/.exec(s)?.[1] ?? (s.startsWith('/') ? s : undefined);
  if (local !== undefined) return `file:${local.replace(/\/+$/, '') || '/'}`;
  const cleanPath = (p: string) =>
    `/${p
      .replace(/^\/+/, '')
      .replace(/\/+$/, '')
      .replace(/\.git$/, '')
      .replace(/\/+$/, '')}`;
  // scp-like ssh (`[user@]host:path`), as git and Argo CD accept it
  const scp = s.includes('://') ? null : /^(?:[^@/:]+@)?([a-z0-9][a-z0-9.-]*):(.+)$/i.exec(s);
  if (scp) return `${scp[1].toLowerCase()}${cleanPath(scp[2])}`;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return s;
  }
  const defaults: Record<string, string> = {
    'http:': '80',
    'https:': '443',
    'ssh:': '22',
    'git+ssh:': '22',
    'ssh+git:': '22',
    'git:': '9418',
  };
  if (!(url.protocol in defaults) || !url.hostname) return s;
  const port = url.port && url.port !== defaults[url.protocol] ? `:${url.port}` : '';
  return `${url.hostname.toLowerCase()}${port}${cleanPath(decodeURIComponent(url.pathname))}`;
}

/** Whether two repository URLs name the same repository (normalizeRepoUrl). */
export function sameRepository(a: string, b: string): boolean {
  return normalizeRepoUrl(a) === normalizeRepoUrl(b);
}

/**
 * What an Application deploys of Forge's, if anything: the first source (spec.source, then
 * spec.sources[] in order) whose repoURL is Forge's GitOps repository (`repoUrl`, compared with
 * sameRepository) and whose path is a slot's (matchSlot). With it, the revisions that source is
 * at: for a source of spec.sources[i], `status.sync.revisions[i]` and
 * `status.operationState.syncResult.revisions[i]` when Argo CD reports those arrays (a
 * multi-source Application), else `status.sync.revision` and `syncResult.revision`.
 * Otherwise why not: `repository` (no source in Forge's repository) or `path` (sources in it,
 * none at a slot's path).
 */
export function matchApplication(
  app: ApplicationFacts,
  environments: readonly string[],
  repoUrl: string,
): { slot: Slot; syncRevision: string | null; syncResultRevision: string | null } | { slot: undefined; why: 'repository' | 'path' } {
  let ours = false;
  for (const src of app.sources) {
    if (!src.repoURL || !sameRepository(src.repoURL, repoUrl)) continue;
    ours = true;
    const slot = src.path ? matchSlot([src.path], environments) : undefined;
    if (!slot) continue;
    const pick = (list: string[] | null, single: string | null) => (src.index !== null && list ? list[src.index] || null : single);
    return {
      slot,
      syncRevision: pick(app.syncRevisions, app.syncRevision),
      syncResultRevision: pick(app.syncResultRevisions, app.syncResultRevision),
    };
  }
  return { slot: undefined, why: ours ? 'path' : 'repository' };
}

/** Whether a sync operation failed (Argo CD's phases `Failed` and `Error`). */
export function syncFailed(app: Pick<ApplicationFacts, 'operationPhase'>): boolean {
  return app.operationPhase === 'Failed' || app.operationPhase === 'Error';
}

/**
 * The revision the observation is about: the synced revision (`status.sync.revision`), or, when
 * Argo CD reports none, the one the last operation applied.
 */
export function observedRevision(app: Pick<ApplicationFacts, 'syncRevision' | 'syncResultRevision'>): string | null {
  return app.syncRevision ?? app.syncResultRevision;
}

/** A deployment's outcome times (RFC 3339 or null) and its healthy stretches. */
export interface OutcomeTimes {
  synced_at: string | null;
  healthy_at: string | null;
  degraded_at: string | null;
  sync_failed_at: string | null;
  /** Start of the current unbroken Healthy stretch, or null. */
  healthy_since: string | null;
  /** The longest Healthy stretch that ended, ms. */
  healthy_longest_ms: number;
}

export type OutcomeEvent = 'synced' | 'healthy' | 'degraded' | 'sync_failed';

/**
 * The next outcome of a deployment given an observation at `at` (RFC 3339). `revisionIsOurs`:
 * `status.sync.revision` is the deployment's commit (or a later one with the same pointer);
 * `operationIsOurs`: likewise for `status.operationState.syncResult.revision`. Health counts
 * only when Argo CD reports the deployment's revision `Synced`. Each event happens at most once
 * per deployment (the first time); the healthy stretch opens on Healthy and closes on anything
 * else. Pure.
 */
export function advanceOutcome(
  o: OutcomeTimes,
  app: Pick<ApplicationFacts, 'syncStatus' | 'healthStatus' | 'operationPhase'>,
  revisionIsOurs: boolean,
  operationIsOurs: boolean,
  at: string,
): { outcome: OutcomeTimes; events: OutcomeEvent[] } {
  const next = { ...o };
  const events: OutcomeEvent[] = [];
  const synced = revisionIsOurs && app.syncStatus === 'Synced';
  if (synced && !next.synced_at) {
    next.synced_at = at;
    events.push('synced');
  }
  const healthy = synced && app.healthStatus === 'Healthy';
  if (healthy) {
    if (!next.healthy_at) {
      next.healthy_at = at;
      events.push('healthy');
    }
    if (!next.healthy_since) next.healthy_since = at;
  } else if (next.healthy_since && (revisionIsOurs || operationIsOurs)) {
    next.healthy_longest_ms = Math.max(next.healthy_longest_ms, Date.parse(at) - Date.parse(next.healthy_since));
    next.healthy_since = null;
  }
  if (synced && app.healthStatus === 'Degraded' && !next.degraded_at) {
    next.degraded_at = at;
    events.push('degraded');
  }
  if (operationIsOurs && syncFailed(app) && !next.sync_failed_at) {
    next.sync_failed_at = at;
    events.push('sync_failed');
  }
  return { outcome: next, events };
}
