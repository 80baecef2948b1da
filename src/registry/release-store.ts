/**
 * What every release store promises (DESIGN.md §5): the `ReleaseStore` interface, and the
 * content checks both stores make the same way. Its own module so that the stores and
 * `openReleaseStore` (src/registry/index.ts) import it without importing each other.
 */
import type { Blob } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';

export interface ReleaseStore {
  /** Prefix for OCI URIs: `host:port/prefix` for a registry, `oci:/abs/path` for a layout. */
  readonly registry: string;
  /** Pushes blobs the store does not have yet (content-addressed: safe to repeat, harmless if never referenced). */
  pushBlobs(repository: string, blobs: Blob[]): Promise<void>;
  /**
   * Pushes blobs (skipping ones the store has or is known to hold), then the manifest under
   * `tag`, reads the manifest back by digest and checks it. Returns the manifest digest.
   * Registration moves a release's tag only under its project's lock (create-release.ts).
   */
  push(repository: string, tag: string, blobs: Blob[], manifest: Blob): Promise<string>;
  /** Fetches a manifest by tag or digest; verifies the digest when asked by digest. */
  getManifest(repository: string, reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }>;
  /** Fetches a blob and verifies digest and size. */
  getBlob(repository: string, digest: string, expectedSize?: number): Promise<Buffer>;
  /** Checks the store answers (for /readyz). */
  ping(): Promise<void>;
}

/** registry_unavailable with reason digest_mismatch: content read back is not what its digest says. */
export function digestMismatch(what: string, expected: string, actual: string): ForgeError {
  return new ForgeError('registry_unavailable', `${what}: content does not match digest ${expected} (got ${actual})`, {
    reason: 'digest_mismatch',
    expected,
    actual,
  });
}

/** The manifest's own `mediaType`, else the OCI image manifest type (for stores that do not say). */
export function manifestMediaType(bytes: Buffer): string {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown };
    if (typeof doc.mediaType === 'string') return doc.mediaType;
  } catch {
    /* not JSON: the caller's parser will say so */
  }
  return 'application/vnd.oci.image.manifest.v1+json';
}
