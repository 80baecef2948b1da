/**
 * The embedded release store: one OCI image-layout directory per `<owner>/<name>/<project>`
 * (`oci-layout`, `index.json` naming tags with `org.opencontainers.image.ref.name`,
 * `blobs/sha256/<hex>`), readable by skopeo and oras. Files are written to a temporary name
 * and renamed, so a reader never sees half a file. Index updates of one directory are queued
 * in this process; the embedded server locks its data directory, so no other process writes.
 */
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Blob, isDigest, sha256Digest } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import { DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_MANIFEST_BYTES } from './limits.js';
import { digestMismatch, manifestMediaType, type ReleaseStore } from './release-store.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';

interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: IndexEntry[];
}

export class LayoutStore implements ReleaseStore {
  readonly registry: string;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly root: string) {
    this.registry = `oci:${root}`;
  }

  private dir(repository: string): string {
    const segments = repository.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'))) {
      throw new ForgeError('validation_error', `repository path "${repository}" is not <owner>/<name>/<project>`, { repository });
    }
    return join(this.root, ...segments);
  }

  private blobPath(dir: string, digest: string): string {
    if (!isDigest(digest)) throw new ForgeError('validation_error', `"${digest}" is not a sha256 digest`, { digest });
    return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  private failure(action: string, err: unknown): ForgeError {
    if (err instanceof ForgeError) return err;
    return new ForgeError('registry_unavailable', `OCI layout ${this.root}: ${action} failed: ${(err as Error).message}`);
  }

  async pushBlobs(repository: string, blobs: Blob[]): Promise<void> {
    const dir = this.dir(repository);
    try {
      await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
      const layoutFile = join(dir, 'oci-layout');
      if (!(await exists(layoutFile))) await writeAtomic(layoutFile, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
      for (const blob of blobs) {
        const path = this.blobPath(dir, blob.digest);
        const present = await stat(path).then(
          (s) => s.size === blob.size,
          () => false,
        );
        if (!present) await writeAtomic(path, blob.bytes);
      }
    } catch (err) {
      throw this.failure(`pushing blobs to ${repository}`, err);
    }
  }

  async push(repository: string, tag: string, blobs: Blob[], manifest: Blob): Promise<string> {
    const dir = this.dir(repository);
    await this.pushBlobs(repository, [...blobs, manifest]);
    try {
      await this.serialise(dir, async () => {
        const index = await readIndex(dir);
        const artifactType = (JSON.parse(manifest.bytes.toString('utf8')) as { artifactType?: string }).artifactType;
        index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
        index.manifests.push({
          mediaType: manifest.mediaType,
          digest: manifest.digest,
          size: manifest.size,
          ...(artifactType ? { artifactType } : {}),
          annotations: { [REF_NAME]: tag },
        });
        await writeAtomic(join(dir, 'index.json'), Buffer.from(JSON.stringify(index)));
      });
    } catch (err) {
      throw this.failure(`pushing ${repository}:${tag}`, err);
    }
    // Read back by digest (which checks the bytes): what a tag names is another question.
    await this.getManifest(repository, manifest.digest);
    return manifest.digest;
  }

  /** Runs `fn` after every earlier `fn` for the same directory has finished. */
  private serialise(dir: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.queues.get(dir) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => {});
    this.queues.set(dir, tail);
    void tail.then(() => {
      if (this.queues.get(dir) === tail) this.queues.delete(dir);
    });
    return run;
  }

  async getManifest(repository: string, reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }> {
    const dir = this.dir(repository);
    let digest = reference;
    let mediaType: string | undefined;
    if (!isDigest(reference)) {
      const index = await readIndex(dir).catch((err) => {
        throw this.failure(`reading ${repository}/index.json`, err);
      });
      const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === reference);
      if (!entry)
        throw new ForgeError('not_found', `no manifest ${reference} in ${this.registry}/${repository}`, { repository, reference });
      digest = entry.digest;
      mediaType = entry.mediaType;
    }
    const bytes = await this.readBlob(
      repository,
      dir,
      digest,
      DEFAULT_MAX_MANIFEST_BYTES,
      `the ${DEFAULT_MAX_MANIFEST_BYTES} bytes a manifest may be`,
    );
    const actual = sha256Digest(bytes);
    if (actual !== digest) throw digestMismatch(`OCI layout ${dir}: manifest ${reference}`, digest, actual);
    return { bytes, digest, mediaType: mediaType ?? manifestMediaType(bytes) };
  }

  /** The blob's bytes; a file larger than `limit` is refused before it is read (issue 19 item 4: every read is bounded). */
  private async readBlob(repository: string, dir: string, digest: string, limit: number, what: string): Promise<Buffer> {
    try {
      const fh = await open(this.blobPath(dir, digest), 'r');
      try {
        const { size } = await fh.stat();
        if (size > limit)
          throw new ForgeError('registry_unavailable', `OCI layout ${dir}: blob ${digest} is ${size} bytes, more than ${what}`, {
            reason: 'too_large',
            digest,
          });
        return await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ForgeError('not_found', `no blob ${digest} in ${this.registry}/${repository}`, { repository, digest });
      }
      throw this.failure(`reading ${digest}`, err);
    }
  }

  async getBlob(repository: string, digest: string, expectedSize?: number): Promise<Buffer> {
    const dir = this.dir(repository);
    const bytes = await this.readBlob(
      repository,
      dir,
      digest,
      expectedSize ?? DEFAULT_MAX_BLOB_BYTES,
      expectedSize !== undefined ? `its declared size ${expectedSize}` : `the ${DEFAULT_MAX_BLOB_BYTES} bytes a blob may be`,
    );
    if (expectedSize !== undefined && bytes.length !== expectedSize) {
      throw new ForgeError('registry_unavailable', `OCI layout ${dir}: blob ${digest} is ${bytes.length} bytes, expected ${expectedSize}`, {
        reason: 'size_mismatch',
        digest,
      });
    }
    const actual = sha256Digest(bytes);
    if (actual !== digest) throw digestMismatch(`OCI layout ${dir}: blob`, digest, actual);
    return bytes;
  }

  async ping(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await access(this.root, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw this.failure('checking the directory is writable', err);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readIndex(dir: string): Promise<ImageIndex> {
  try {
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
    if (!Array.isArray(index.manifests)) throw new Error(`${join(dir, 'index.json')} has no manifests list`);
    return index;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: 2, mediaType: INDEX_MEDIA_TYPE, manifests: [] };
    throw err;
  }
}

/** Writes `bytes` to a temporary file beside `path`, flushes it, and renames it over `path`. */
async function writeAtomic(path: string, bytes: Buffer): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
