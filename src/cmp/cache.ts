/**
 * The plugin's disk cache (DESIGN.md §9; issue 19 item 4): what it pulled from the registry,
 * kept as the registry's own content-addressed bytes (manifests and layers, each in a file named
 * by its sha256 digest), never as unauthenticated conclusions drawn from them. Nothing read back is trusted: a
 * file whose content does not hash to its name (or has the wrong size) is a miss and is
 * removed, and a release served from the cache goes through the same checks as one pulled from
 * the registry (pointer, identity, extraction limits, and the signature against the key
 * configured now). So a forged or damaged entry can at worst cost a pull, never change the
 * output or claim a signature check that did not happen.
 *
 * The one thing that is not content-addressed is the signature's tag (the registry tag
 * `sha256-<hex>.sig`, kept as the file `tag-<hex>`): it names the digest of the signature
 * manifest last found under it. A wrong one only
 * makes the signature check fail on cached data, after which the plugin asks the registry again
 * (src/cmp/generate.ts).
 *
 * The folder, when Forge creates it, is 0700 and every file 0600 (layers may hold Secrets);
 * entries an older version left readable by others are made 0600 by eviction.
 *
 * Files are written to a temporary name and renamed into place, so concurrent runs sharing the
 * directory see a whole file or none. The directory is kept under a size bound by evicting the
 * least recently used files (a hit refreshes the file's mtime).
 *
 * One kind of entry is a conclusion, and it is authenticated rather than trusted: the rendered
 * YAML stream of a resources layer (`render-<hex>`, RenderMemo below; issue 18, plugin warm
 * start). Each is sealed with an HMAC under a key only the plugin's user can read (`render-key`,
 * 0600, owned by that user, created by the first run); an entry that does not verify is a miss
 * and is removed. Everything else a render checks still runs on every render.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, sha256Digest } from '../core/digest.js';
import { manifestMediaType, type ReleaseStore } from '../registry/release-store.js';

/** A blob (`sha256-<hex>`), a tag (`tag-<hex>`, naming a digest) or a sealed render (`render-<hex>`). Older versions' `.json` entries are removed on sight. */
const ENTRY = /^(sha256|tag|render)-[0-9a-f]{64}$/;
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

  /** Writes `bytes` under `name` in the folder (atomically), then evicts beyond the size bound. */
  async writeEntry(name: string, bytes: Buffer): Promise<void> {
    await this.writeFile(join(this.dir, name), bytes);
  }

  /** The bytes of the entry `name` when it is a regular file within the size bound; undefined otherwise. */
  async readEntry(name: string): Promise<Buffer | undefined> {
    return readBounded(join(this.dir, name), this.maxBytes);
  }

  /** Removes the entry `name` (a memo that failed its check). */
  async removeEntry(name: string): Promise<void> {
    await rm(join(this.dir, name), { force: true });
  }

  /** Marks the entry `name` as used now (least recently used eviction). */
  async touchEntry(name: string): Promise<void> {
    await touch(join(this.dir, name));
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

/** The HMAC key's file in the cache folder: 32 random bytes, 0600, owned by the plugin's user. */
const RENDER_KEY_FILE = 'render-key';
const RENDER_KEY_BYTES = 32;
const SEAL_BYTES = 32;

/**
 * Rendered YAML streams of resources layers, sealed (issue 18, plugin warm start): a warm
 * render still reads the pointer, verifies the manifest, the layers' digests and sizes, the
 * release's identity, the extraction limits and (when a key is configured) the signature, and
 * only the YAML parse and reprint of the resources layer (src/cmp/stream.ts) is replaced by
 * this entry. An entry is `HMAC-SHA256(key, input NUL stream) ‖ stream`, named by the sha256 of
 * its input; `input` names everything the stream depends on (the renderer's build, the layer's
 * digest, the namespace rule). Without the key, which only the plugin's user can read, a
 * writer of the cache folder cannot make an entry that verifies: a forged or damaged entry is
 * a miss (and is removed), costing one render.
 *
 * The key is refused (the memo stays off for the run, nothing else changes) unless it is a
 * regular file of 32 bytes owned by this process's user and readable by nobody else; on a
 * system without user ids (Windows) the memo is off.
 */
export class RenderMemo {
  private constructor(
    private readonly cache: BlobCache,
    private readonly key: Buffer,
  ) {}

  /** The memo of `cache`'s folder, creating its key on first use; undefined when no trustworthy key can be had. */
  static async open(cache: BlobCache): Promise<RenderMemo | undefined> {
    const key = await readRenderKey(cache.dir);
    if (key) return new RenderMemo(cache, key);
    const created = await createRenderKey(cache.dir).catch(() => undefined);
    return created ? new RenderMemo(cache, created) : undefined;
  }

  private static entryName(input: string): string {
    return `render-${createHash('sha256').update(input).digest('hex')}`;
  }

  private seal(input: string, stream: Buffer): Buffer {
    return createHmac('sha256', this.key).update(input).update('\0').update(stream).digest();
  }

  /** The stream sealed for `input`; undefined when there is none or it does not verify (then it is removed). */
  async read(input: string): Promise<string | undefined> {
    const name = RenderMemo.entryName(input);
    const bytes = await this.cache.readEntry(name);
    if (bytes === undefined) return undefined;
    const stream = bytes.subarray(SEAL_BYTES);
    if (bytes.length < SEAL_BYTES || !timingSafeEqual(bytes.subarray(0, SEAL_BYTES), this.seal(input, stream))) {
      await this.cache.removeEntry(name);
      return undefined;
    }
    await this.cache.touchEntry(name);
    return stream.toString('utf8');
  }

  /** Seals and stores `stream` for `input`; a stream larger than the cache's bound is not stored. */
  async write(input: string, stream: string): Promise<void> {
    const bytes = Buffer.from(stream, 'utf8');
    if (bytes.length + SEAL_BYTES > this.cache.maxBytes) return;
    await this.cache.writeEntry(RenderMemo.entryName(input), Buffer.concat([this.seal(input, bytes), bytes]));
  }
}

/** The key when its file is a regular file of the right size, owned by this user and private to it; undefined otherwise. */
async function readRenderKey(dir: string): Promise<Buffer | undefined> {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(join(dir, RENDER_KEY_FILE), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const s = await fh.stat();
    if (!s.isFile() || s.size !== RENDER_KEY_BYTES || s.uid !== uid || s.mode & 0o077) return undefined;
    const key = await fh.readFile();
    return key.length === RENDER_KEY_BYTES ? key : undefined;
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/**
 * Creates the key: written whole to a temporary file (0600), then linked into place, which
 * fails when a key is already there (a concurrent first run), in which case that one is read.
 */
async function createRenderKey(dir: string): Promise<Buffer | undefined> {
  if (process.getuid?.() === undefined) return undefined;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  const key = randomBytes(RENDER_KEY_BYTES);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(key);
    } finally {
      await fh.close();
    }
    await link(tmp, join(dir, RENDER_KEY_FILE));
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readRenderKey(dir);
    return undefined;
  } finally {
    await rm(tmp, { force: true });
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
