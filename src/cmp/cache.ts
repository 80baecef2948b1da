/**
 * The plugin's disk cache (DESIGN.md §9; issue 19 item 4): what it pulled from the registry,
 * kept as the registry's own content-addressed bytes (manifests and layers, each in a file named
 * by its sha256 digest), never as conclusions drawn from them. Nothing read back is trusted: a
 * file whose content does not hash to its name (or has the wrong size) is a miss and is
 * removed, and a release served from the cache goes through the same checks as one pulled from
 * the registry (pointer, identity, extraction limits, and the signature against the key
 * configured now). So a forged or damaged entry can at worst cost a pull, never change the
 * output or claim a signature check that did not happen.
 *
 * The one thing that is not content-addressed is the signature's tag (`sha256-<hex>.sig`): a
 * small file naming the digest of the signature manifest last found under it. A wrong one only
 * makes the signature check fail on cached data, after which the plugin asks the registry again
 * (src/cmp/generate.ts).
 *
 * The folder, when Forge creates it, is 0700 and every file 0600 (layers may hold Secrets);
 * entries an older version left readable by others are made 0600 by eviction.
 *
 * Files are written to a temporary name and renamed into place, so concurrent runs sharing the
 * directory see a whole file or none. The directory is kept under a size bound by evicting the
 * least recently used files (a hit refreshes the file's mtime).
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, sha256Digest } from '../core/digest.js';
import { manifestMediaType, type ReleaseStore } from '../registry/release-store.js';

/** A blob (`sha256-<hex>`) or a tag (`tag-<hex>`, naming a digest). Older versions' `.json` entries are removed on sight. */
const ENTRY = /^(sha256|tag)-[0-9a-f]{64}$/;
const LEGACY_ENTRY = /^sha256-[0-9a-f]{64}\.json$/;
const TMP_PREFIX = '.tmp-';
/** A temporary file older than this belongs to a run that died: eviction removes it. */
const STALE_TMP_MS = 10 * 60 * 1000;
/** A tag file holds one digest. */
const MAX_TAG_BYTES = 128;

export class BlobCache {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  private blobPath(digest: string): string {
    return join(this.dir, digest.replace(':', '-'));
  }

  private tagPath(repository: string, tag: string): string {
    return join(this.dir, `tag-${createHash('sha256').update(`${repository}:${tag}`).digest('hex')}`);
  }

  /** The bytes of `digest`, verified against it (and `size` when given); undefined when missing or damaged (a damaged file is removed). */
  async read(digest: string, size?: number): Promise<Buffer | undefined> {
    if (!isDigest(digest)) return undefined;
    const path = this.blobPath(digest);
    const bytes = await readBounded(path, size ?? this.maxBytes);
    if (bytes === undefined) return undefined;
    if ((size !== undefined && bytes.length !== size) || sha256Digest(bytes) !== digest) {
      await rm(path, { force: true });
      return undefined;
    }
    await touch(path);
    return bytes;
  }

  /** The digest last stored for `repository:tag`, unverified (what it names is verified when read). */
  async readTag(repository: string, tag: string): Promise<string | undefined> {
    const path = this.tagPath(repository, tag);
    const text = (await readBounded(path, MAX_TAG_BYTES))?.toString('utf8').trim();
    if (text === undefined) return undefined;
    if (!isDigest(text)) {
      await rm(path, { force: true });
      return undefined;
    }
    await touch(path);
    return text;
  }

  /** Stores a blob under its digest (atomically), then evicts beyond the size bound. False when the blob alone exceeds the bound. */
  async write(digest: string, bytes: Buffer): Promise<boolean> {
    if (bytes.length > this.maxBytes) return false;
    await this.writeFile(this.blobPath(digest), bytes);
    return true;
  }

  async writeTag(repository: string, tag: string, digest: string): Promise<void> {
    await this.writeFile(this.tagPath(repository, tag), Buffer.from(digest));
  }

  private async writeFile(path: string, bytes: Buffer): Promise<void> {
    // Layers may hold Secrets (issue 19, attack review D): a folder Forge creates is 0700 and
    // every file 0600. A folder that exists already keeps its mode (it may be shared, like /tmp).
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(bytes);
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await this.evict();
  }

  /** Deletes the least recently used files until the directory holds at most maxBytes; removes stale temporary files and entries of older versions. */
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
      } else if (LEGACY_ENTRY.test(name)) {
        // Rendered output of an older version, never trusted: not read, removed.
        await rm(path, { force: true });
      } else if (ENTRY.test(name)) {
        // An entry an older version wrote readable by others (0644) is made private.
        if (s.mode & 0o077 && s.uid === process.getuid?.()) await chmod(path, 0o600).catch(() => {});
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

/**
 * A read-only release store that answers from the cache what it can (each read verified by
 * BlobCache) and asks `inner` for the rest, storing what it gets. `fromInner` says whether the
 * registry was asked; `fromCache` whether anything was served from the cache.
 */
export class CachingStore implements ReleaseStore {
  readonly registry: string;
  fromInner = false;
  fromCache = false;

  constructor(
    private readonly inner: ReleaseStore,
    private readonly cache: BlobCache,
    /** false: read only from the registry (after cached data failed a check), still storing what it gets. */
    private readonly readCache: boolean,
    private readonly warn: (message: string) => void,
  ) {
    this.registry = inner.registry;
  }

  async getManifest(repository: string, reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    if (this.readCache) {
      const digest = isDigest(reference) ? reference : await this.cache.readTag(repository, reference);
      const bytes = digest ? await this.cache.read(digest) : undefined;
      if (digest && bytes) {
        this.fromCache = true;
        return { bytes, digest, mediaType: manifestMediaType(bytes) };
      }
    }
    this.fromInner = true;
    const got = await this.inner.getManifest(repository, reference);
    await this.store(got.digest, got.bytes, isDigest(reference) ? undefined : { repository, tag: reference });
    return got;
  }

  async getBlob(repository: string, digest: string, expectedSize?: number): Promise<Buffer> {
    if (this.readCache) {
      const bytes = await this.cache.read(digest, expectedSize);
      if (bytes) {
        this.fromCache = true;
        return bytes;
      }
    }
    this.fromInner = true;
    const bytes = await this.inner.getBlob(repository, digest, expectedSize);
    await this.store(digest, bytes);
    return bytes;
  }

  private async store(digest: string, bytes: Buffer, tag?: { repository: string; tag: string }): Promise<void> {
    try {
      if (!(await this.cache.write(digest, bytes))) {
        this.warn(`not caching ${digest}: larger than FORGE_CMP_CACHE_MAX_BYTES (${this.cache.maxBytes})`);
        return;
      }
      if (tag) await this.cache.writeTag(tag.repository, tag.tag, digest);
    } catch (err) {
      this.warn(`warning: could not write the cache in ${this.cache.dir}: ${(err as Error).message}`);
    }
  }

  pushBlobs(): Promise<void> {
    return Promise.reject(new Error('the plugin cache is read-only'));
  }

  push(): Promise<string> {
    return Promise.reject(new Error('the plugin cache is read-only'));
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
}

async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => {});
}

/** A regular file's bytes when it is at most `limit` bytes; undefined when missing, larger or not a regular file. */
async function readBounded(path: string, limit: number): Promise<Buffer | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    // Not through a symbolic link (one planted here reads as a miss), and never blocking on a FIFO.
    fh = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const s = await fh.stat();
    if (!s.isFile() || s.size > limit) {
      await rm(path, { force: true });
      return undefined;
    }
    return await fh.readFile();
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}
