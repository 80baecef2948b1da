/**
 * The plugin's disk cache (DESIGN.md §9): the rendered resources of a release, keyed by its
 * manifest digest. Content addressed, so an entry is never stale. Entries are written to a
 * temporary file and renamed into place, so concurrent runs sharing the directory see a whole
 * entry or none; each entry carries the digest of its own content, so a damaged file is a miss,
 * never wrong output. The directory is kept under a size bound by evicting the least recently
 * used entries (a hit refreshes the entry's mtime).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Digest } from '../core/digest.js';

export interface CachedRelease {
  repository: string;
  project: string;
  sha: string;
  releaseNumber: number;
  /** The rendered YAML stream of the release's resources. */
  stream: string;
  /** sha256 of the public key (PEM) the release's signature was verified with, when one was configured. */
  verifiedWith?: string;
}

interface EntryFile extends CachedRelease {
  version: 1;
  manifestDigest: string;
  streamDigest: string;
}

const ENTRY = /^sha256-[0-9a-f]{64}\.json$/;
const TMP_PREFIX = '.tmp-';
/** A temporary file older than this belongs to a run that died: eviction removes it. */
const STALE_TMP_MS = 10 * 60 * 1000;

export class ResourceCache {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  private path(digest: string): string {
    return join(this.dir, `${digest.replace(':', '-')}.json`);
  }

  /** The entry for a manifest digest, or undefined (missing, unreadable or damaged entries are misses). */
  async get(manifestDigest: string): Promise<CachedRelease | undefined> {
    const path = this.path(manifestDigest);
    let entry: EntryFile;
    try {
      entry = JSON.parse(await readFile(path, 'utf8')) as EntryFile;
    } catch {
      return undefined;
    }
    if (
      entry?.version !== 1 ||
      entry.manifestDigest !== manifestDigest ||
      typeof entry.stream !== 'string' ||
      sha256Digest(Buffer.from(entry.stream)) !== entry.streamDigest
    ) {
      await rm(path, { force: true });
      return undefined;
    }
    const now = new Date();
    await utimes(path, now, now).catch(() => {});
    return {
      repository: entry.repository,
      project: entry.project,
      sha: entry.sha,
      releaseNumber: entry.releaseNumber,
      stream: entry.stream,
      ...(entry.verifiedWith ? { verifiedWith: entry.verifiedWith } : {}),
    };
  }

  /** Stores an entry (atomically), then evicts least recently used entries beyond the size bound. Returns false when the entry alone exceeds the bound. */
  async put(manifestDigest: string, release: CachedRelease): Promise<boolean> {
    const entry: EntryFile = { version: 1, manifestDigest, streamDigest: sha256Digest(Buffer.from(release.stream)), ...release };
    const bytes = Buffer.from(JSON.stringify(entry));
    if (bytes.length > this.maxBytes) return false;
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(bytes);
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path(manifestDigest));
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await this.evict();
    return true;
  }

  /** Deletes the least recently used entries until the directory holds at most maxBytes; removes stale temporary files. */
  async evict(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const now = Date.now();
    const entries: { path: string; size: number; used: number }[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      const s = await stat(path).catch(() => undefined);
      if (!s?.isFile()) continue;
      if (name.startsWith(TMP_PREFIX)) {
        if (now - s.mtimeMs > STALE_TMP_MS) await rm(path, { force: true });
      } else if (ENTRY.test(name)) {
        entries.push({ path, size: s.size, used: s.mtimeMs });
      }
    }
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    entries.sort((a, b) => a.used - b.used);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      await rm(e.path, { force: true });
      total -= e.size;
    }
  }
}
