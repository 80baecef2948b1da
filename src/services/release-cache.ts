/**
 * The release resolution cache (issue #18, "resolution near the framework's limit"): GET
 * release reads answer from this process's memory when they can. A release, its number and its
 * commit are immutable and an alias never moves, but what a read shows does change (an alias
 * or a trigger added, an automatic deployment's status, the branches, the signature), and a
 * new release or alias can make a reference ambiguous. So the cache holds whole projects: every
 * release of a project with its representation, and resolves a reference over them exactly as
 * store/releases.ts resolveRelease does in SQL (404 and 409 included). A project is dropped on
 * any change to it, told by the database itself (migration 0150's triggers):
 *   - this replica's own transactions before their `transaction()` resolves, so a client reads
 *     its own writes on the replica it wrote to;
 *   - other replicas' by PostgreSQL NOTIFY on commit, on a LISTEN connection of this replica's
 *     own: another replica's change shows here as soon as the notification arrives (in
 *     milliseconds; the cross-replica test allows 2 s);
 *   - while that connection is down, or before it is up, the cache is not used (every read goes
 *     to the database) and it is emptied when the connection is back.
 * A project read that began before a change to it and ends after it answers its request but is
 * not kept. Only GET reads use the cache; decisions (deploy, promotion, trains, rollback) read the
 * database. Bounded: FORGE_RELEASE_CACHE_MIB in all (estimated; the least recently used project
 * dropped first, and once full only one project read in ADMIT_ONE_IN loads its project), and a
 * project with more than MAX_PER_PROJECT releases is not cached (its reads go to the database).
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Release } from '../contract/index.js';
import { referenceForms } from '../core/aliases.js';
import type { Db } from '../store/db.js';
import * as releases from '../store/releases.js';

/** Estimated bytes the cache may hold (representations, index and overhead), all projects together, when not given (the server gives FORGE_RELEASE_CACHE_MIB). */
export const MAX_BYTES = 64 * 1024 * 1024;
/**
 * When the cache is full, one project read in ADMIT_ONE_IN is kept (dropping the least recently
 * used); the others are answered by one SQL resolution, without loading the project: a
 * working set larger than the cache does not turn every read into a whole project's load.
 */
const ADMIT_ONE_IN = 16;
/** A project with more releases than this is not cached. */
export const MAX_PER_PROJECT = 1000;
/**
 * zlib's output chunk for the representations, bytes: one representation (~900 bytes) fits. The
 * default (16 KiB) allocated a 16 KiB buffer for each read, freed only by a later GC: at some
 * 6,000 reads a second that churn kept ~25 MiB more resident (issue #18 acceptance 7). A longer
 * representation is simply read in several chunks.
 */
const ZLIB_CHUNK = 1024;
/** Releases represented between two yields to the event loop while a project is loaded. */
const CHUNK = 100;

/** One release read from the cache: what resolution found, and its representation (the JSON the API answers). */
export interface CachedRelease {
  id: string;
  number: number;
  sha: string;
  /** The release's JSON representation, exactly as GET /releases/…/{ref} answers it. */
  body: string;
}

/**
 * A project held in memory, compactly (issue #18 acceptance 7: 100,000 releases in some 35 MiB,
 * so that a PostgreSQL replica stays within 200 MiB): release `i` (0 newest) is `numbers[i]`,
 * `ids[i]`, `shas[i]`, and its representation is bytes `offsets[i]…offsets[i+1]` of `bodies`,
 * deflated with the project's newest representation as the preset dictionary (releases of a
 * project share most of their text: some 900 bytes become about 150).
 */
interface Catalogue {
  /** Release numbers, newest (highest) first: binary search. */
  numbers: Int32Array;
  ids: string[];
  shas: string[];
  /** Release indices by commit sha, ascending (sha prefixes are looked up by binary search). */
  bySha: Int32Array;
  byAlias: Map<string, number>;
  dictionary: Buffer;
  bodies: Buffer;
  offsets: Uint32Array;
  bytes: number;
}

/** A project too large to cache: remembered so that it is not loaded on every read. */
const TOO_BIG = 'too big' as const;

/** The representation of a release, as the API answers it, and its strong ETag. */
export interface ReleaseRepresentation {
  body: string;
  etag: string;
}

/** A strong ETag of a representation: the first 128 bits of its SHA-256, base64url, quoted. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

const projectKey = (repository: string, project: string) => JSON.stringify({ repository, project });

export class ReleaseCache {
  private readonly projects = new Map<string, Catalogue | typeof TOO_BIG>();
  /** Loads under way, by project; a change to the project removes its entry (the load's result is then not kept). */
  private readonly loading = new Map<string, Promise<Catalogue | typeof TOO_BIG | undefined>>();
  private bytes = 0;
  private live = false;

  constructor(
    private readonly db: Db,
    private readonly maxBytes = MAX_BYTES,
    private readonly maxPerProject = MAX_PER_PROJECT,
  ) {}

  /** Whether reads may be answered from memory (every change from now on will be told). */
  get usable(): boolean {
    return this.live && this.maxBytes > 0;
  }

  /** A project changed (`{"repository","project"}` JSON as migration 0150 sends it), or `*`: anything may have. */
  change(project: string): void {
    let key: string | undefined;
    try {
      const p = JSON.parse(project) as { repository?: unknown; project?: unknown };
      if (typeof p.repository === 'string' && typeof p.project === 'string') key = projectKey(p.repository, p.project);
    } catch {}
    if (key === undefined) this.clear();
    else this.drop(key);
  }

  up(): void {
    this.clear();
    this.live = true;
  }

  down(): void {
    this.live = false;
    this.clear();
  }

  private clear(): void {
    this.projects.clear();
    this.loading.clear();
    this.bytes = 0;
  }

  private drop(key: string): void {
    const had = this.projects.get(key);
    if (had && had !== TOO_BIG) this.bytes -= had.bytes;
    this.projects.delete(key);
    this.loading.delete(key);
  }

  /**
   * The release `ref` names in the project, from memory (loading the project when it is not
   * held), or undefined when the cache cannot answer (not usable, project unknown or too big):
   * the caller reads the database then. Throws 404/409 like resolveRelease.
   */
  async resolve(repository: string, project: string, ref: string): Promise<CachedRelease | undefined> {
    if (!this.usable) return undefined;
    const catalogue = await this.catalogue(repository, project);
    if (!catalogue || catalogue === TOO_BIG) return undefined;
    return resolveIn(catalogue, repository, project, ref);
  }

  private async catalogue(repository: string, project: string): Promise<Catalogue | typeof TOO_BIG | undefined> {
    const key = projectKey(repository, project);
    const held = this.projects.get(key);
    if (held) {
      this.projects.delete(key); // most recently used last
      this.projects.set(key, held);
      return held;
    }
    const pending = this.loading.get(key);
    if (pending) return pending;
    // full: most reads of a project not held are answered from the database (see ADMIT_ONE_IN)
    if (this.bytes >= this.maxBytes * 0.95 && Math.random() * ADMIT_ONE_IN >= 1) return undefined;
    const done: Promise<Catalogue | typeof TOO_BIG | undefined> = this.load(repository, project).then(
      (loaded) => {
        // a change to the project (or a clear) since the load began removed it from `loading`:
        // then this read is answered with what it read, but that is not kept
        const current = this.loading.get(key) === done;
        if (current) this.loading.delete(key);
        if (loaded !== undefined && current && this.live) this.keep(key, loaded);
        return loaded;
      },
      (err) => {
        if (this.loading.get(key) === done) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, done);
    return done;
  }

  private keep(key: string, loaded: Catalogue | typeof TOO_BIG): void {
    this.drop(key);
    this.projects.set(key, loaded);
    if (loaded !== TOO_BIG) this.bytes += loaded.bytes;
    for (const [oldest, held] of this.projects) {
      if (this.bytes <= this.maxBytes) break;
      if (held !== TOO_BIG) this.bytes -= held.bytes;
      this.projects.delete(oldest);
    }
  }

  private async load(repository: string, project: string): Promise<Catalogue | typeof TOO_BIG | undefined> {
    const rows = await releases.projectReleases(this.db, repository, project, this.maxPerProject + 1);
    if (rows.length > this.maxPerProject) return TOO_BIG;
    if (rows.length === 0) return undefined; // an unknown project: the database says so
    const n = rows.length;
    const dictionary = Buffer.from(JSON.stringify(rows[0]));
    const numbers = new Int32Array(n);
    const ids: string[] = [];
    const shas: string[] = [];
    const byAlias = new Map<string, number>();
    const packed: Buffer[] = [];
    const offsets = new Uint32Array(n + 1);
    // the index entries, the strings' and arrays' overhead, and the dictionary
    let bytes = 512 + dictionary.length;
    for (let i = 0; i < n; i++) {
      if (i > 0 && i % CHUNK === 0) await yieldToLoop(); // no event-loop stall on a large project
      const r = rows[i];
      numbers[i] = r.release_number;
      ids.push(r.id);
      shas.push(r.commit_sha);
      for (const a of r.aliases) if (a.alias_type !== 'numeric') byAlias.set(a.alias, i);
      const body = deflateRawSync(JSON.stringify(r), { dictionary, chunkSize: ZLIB_CHUNK });
      packed.push(body);
      offsets[i + 1] = offsets[i] + body.length;
      bytes += body.length + r.id.length + r.commit_sha.length + 80 + r.aliases.reduce((m, a) => m + a.alias.length + 64, 0);
    }
    const bySha = Int32Array.from(shas.keys()).sort((a, b) => (shas[a] < shas[b] ? -1 : shas[a] > shas[b] ? 1 : 0));
    return { numbers, ids, shas, bySha, byAlias, dictionary, bodies: Buffer.concat(packed), offsets, bytes };
  }
}

/** Release `i` of a held project, its representation inflated. */
function releaseAt(c: Catalogue, i: number): CachedRelease {
  const body = inflateRawSync(c.bodies.subarray(c.offsets[i], c.offsets[i + 1]), {
    dictionary: c.dictionary,
    chunkSize: ZLIB_CHUNK,
  }).toString();
  return { id: c.ids[i], number: c.numbers[i], sha: c.shas[i], body };
}

/** The index of release `number` (numbers are held highest first), or undefined. */
function indexOfNumber(c: Catalogue, number: number): number | undefined {
  let lo = 0;
  let hi = c.numbers.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c.numbers[mid] > number) lo = mid + 1;
    else hi = mid;
  }
  return c.numbers[lo] === number ? lo : undefined;
}

/** resolveRelease (store/releases.ts) over a whole project held in memory: the same candidates, order and errors. */
function resolveIn(c: Catalogue, repository: string, project: string, ref: string): CachedRelease {
  const forms = referenceForms(ref);
  if (forms.fullSha !== undefined) {
    const exact = shaRange(c, forms.fullSha).find((i) => c.shas[i] === forms.fullSha);
    if (exact !== undefined) return releaseAt(c, exact);
  }
  const readings = new Map<number, string[]>();
  const add = (i: number | undefined, kind: string) => {
    if (i === undefined) return;
    const kinds = readings.get(i);
    if (kinds) kinds.push(kind);
    else readings.set(i, [kind]);
  };
  add(c.byAlias.get(ref), 'alias');
  if (forms.number !== undefined) add(indexOfNumber(c, forms.number), 'number');
  if (forms.shaPrefix !== undefined) {
    // newest first: the lowest indices
    const prefixed = shaRange(c, forms.shaPrefix).sort((a, b) => a - b);
    for (const i of prefixed.slice(0, 11)) add(i, 'sha prefix');
  }
  if (readings.size === 1) return releaseAt(c, readings.keys().next().value as number);
  if (readings.size > 1)
    throw releases.ambiguousReference(
      repository,
      project,
      ref,
      [...readings].sort(([a], [b]) => a - b).map(([i, as]) => ({ commit_sha: c.shas[i], release_number: c.numbers[i], as })),
    );
  throw releases.unknownReference(repository, project, ref, true);
}

/** The indices of the releases whose commit sha starts with `prefix` (binary search over the sorted shas). */
function shaRange(c: Catalogue, prefix: string): number[] {
  let lo = 0;
  let hi = c.bySha.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c.shas[c.bySha[mid]] < prefix) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let k = lo; k < c.bySha.length && c.shas[c.bySha[k]].startsWith(prefix); k++) out.push(c.bySha[k]);
  return out;
}

const caches = new WeakMap<Db, ReleaseCache>();

/**
 * The resolution cache of a database handle, created (and its change watch started) on first
 * use; unusable until the watch is up, and for a handle that cannot watch (every read goes to
 * the database then).
 */
export function releaseCache(db: Db, maxBytes = MAX_BYTES): ReleaseCache {
  let cache = caches.get(db);
  if (!cache) {
    const created = new ReleaseCache(db, maxBytes);
    caches.set(db, created);
    cache = created;
    db.watchReleaseChanges?.({ change: (p) => created.change(p), up: () => created.up(), down: () => created.down() }).catch(() =>
      created.down(),
    );
  }
  return cache;
}

/** The representation of a release read from the database (the cache could not answer). */
export function representationOf(release: Release): ReleaseRepresentation {
  const body = JSON.stringify(release);
  return { body, etag: etagOf(body) };
}
