/**
 * Where release images live (DESIGN.md §5): an OCI image layout under the data directory by
 * default, or any registry speaking the OCI distribution spec. The rest of the code sees one
 * interface, `ReleaseStore`.
 */
import { resolve, join } from 'node:path';
import type { Blob } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import { DistributionStore } from './distribution.js';
import { LayoutStore } from './layout.js';

export type { Blob } from '../core/digest.js';

export interface ReleaseStore {
  /** Prefix for OCI URIs: `host:port/prefix` for a registry, `oci:/abs/path` for a layout. */
  readonly registry: string;
  /** Pushes blobs the store does not have yet (content-addressed: safe to repeat, harmless if never referenced). */
  pushBlobs(repository: string, blobs: Blob[]): Promise<void>;
  /** Pushes blobs (skipping ones the store has), then the manifest under `tag`, reads the manifest back and checks its digest. Returns the manifest digest. */
  push(repository: string, tag: string, blobs: Blob[], manifest: Blob): Promise<string>;
  /** Fetches a manifest by tag or digest; verifies the digest when asked by digest. */
  getManifest(repository: string, reference: string): Promise<{ bytes: Buffer; digest: string; mediaType: string }>;
  /** Fetches a blob and verifies digest and size. */
  getBlob(repository: string, digest: string, expectedSize?: number): Promise<Buffer>;
  /** Checks the store answers (for /readyz). */
  ping(): Promise<void>;
}

export interface ReleaseStoreOptions {
  /** FORGE_REGISTRY: `host[:port][/prefix]` (optionally with `http://` or `https://`), or `oci-layout:PATH`; absent = a layout under dataDir. */
  registry?: string;
  dataDir: string;
  username?: string;
  password?: string;
  /** Plain HTTP for a non-loopback host. */
  insecure?: boolean;
  /** Per-request timeout, default 30 s. */
  timeoutMs?: number;
}

export function openReleaseStore(opts: ReleaseStoreOptions): ReleaseStore {
  const setting = opts.registry?.trim();
  if (!setting) return new LayoutStore(resolve(join(opts.dataDir, 'registry')));
  if (setting.startsWith('oci-layout:')) {
    const path = setting.slice('oci-layout:'.length);
    if (!path) throw new ForgeError('validation_error', 'FORGE_REGISTRY "oci-layout:" needs a path, e.g. oci-layout:/var/lib/forge/registry', { field: 'registry' });
    return new LayoutStore(resolve(path));
  }
  const match = /^(?:(https?):\/\/)?([^/\s]+)(?:\/([^\s]*?))?\/*$/.exec(setting);
  if (!match || /[@]/.test(match[2]!)) {
    throw new ForgeError('validation_error', `FORGE_REGISTRY "${setting}" is not host[:port][/prefix] or oci-layout:PATH`, { field: 'registry' });
  }
  const [, scheme, host, prefix] = match;
  return new DistributionStore({
    host: host!, prefix: prefix ?? '', scheme: (scheme as 'http' | 'https' | undefined) ?? (opts.insecure || isLoopback(host!) ? 'http' : 'https'),
    username: opts.username, password: opts.password, timeoutMs: opts.timeoutMs ?? 30_000,
  });
}

function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}
