/**
 * Where release images live (DESIGN.md §5): an OCI image layout under the data directory by
 * default, or any registry speaking the OCI distribution spec. The rest of the code sees one
 * interface, `ReleaseStore` (src/registry/release-store.ts).
 */
import { join, resolve } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { type CredentialProvider, challengeCredentials, dockerConfigCredentials } from './credentials.js';
import { DistributionStore } from './distribution.js';
import { LayoutStore } from './layout.js';

export type { Blob } from '../core/digest.js';
export type { ReleaseStore } from './release-store.js';

import type { ReleaseStore } from './release-store.js';

/** Default per-request registry timeout, milliseconds. */
export const DEFAULT_REGISTRY_TIMEOUT_MS = 30_000;

export interface ReleaseStoreOptions {
  /** FORGE_REGISTRY: `host[:port][/prefix]` (optionally with `http://` or `https://`), or `oci-layout:PATH`; absent = a layout under dataDir. */
  registry?: string;
  dataDir: string;
  /** Basic / bearer-exchange credentials (FORGE_REGISTRY_USERNAME/_PASSWORD). */
  username?: string;
  password?: string;
  /** Take credentials from `<dockerConfigDir>/config.json` instead (publishing from CI, DESIGN.md §4). */
  dockerConfigDir?: string;
  /** Plain HTTP for a non-loopback host. */
  insecure?: boolean;
  /** Per-request timeout, milliseconds; default 30 s. */
  timeoutMs?: number;
  /** FORGE_REGISTRY_TOKEN_REALM_HOSTS: other hosts whose token realms may receive the credentials (over https). */
  tokenRealmHosts?: string[];
  /** The largest blob read; default 128 MiB (src/registry/distribution.ts). */
  maxBlobBytes?: number;
}

export function openReleaseStore(opts: ReleaseStoreOptions): ReleaseStore {
  const setting = opts.registry?.trim();
  if (!setting) return new LayoutStore(resolve(join(opts.dataDir, 'registry')));
  if (setting.startsWith('oci-layout:')) {
    const path = setting.slice('oci-layout:'.length);
    if (!path)
      throw new ForgeError('validation_error', 'FORGE_REGISTRY "oci-layout:" needs a path, e.g. oci-layout:/var/lib/forge/registry', {
        field: 'registry',
      });
    return new LayoutStore(resolve(path));
  }
  const match = /^(?:(https?):\/\/)?([^/\s]+)(?:\/([^\s]*?))?\/*$/.exec(setting);
  if (!match || /[@]/.test(match[2]!)) {
    // A value with "@" may hold user:password: it is not quoted (issue 19, attack review C).
    const shown = setting.includes('@') ? '(the value is not shown: it holds "@", maybe user:password)' : `"${setting}"`;
    throw new ForgeError('validation_error', `FORGE_REGISTRY ${shown} is not host[:port][/prefix] or oci-layout:PATH`, {
      field: 'registry',
    });
  }
  const [, scheme, host, prefix] = match;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
  const credentials: CredentialProvider = opts.dockerConfigDir
    ? dockerConfigCredentials(host!, opts.dockerConfigDir, timeoutMs, opts.tokenRealmHosts)
    : challengeCredentials(host!, { username: opts.username, password: opts.password }, timeoutMs, undefined, opts.tokenRealmHosts);
  return new DistributionStore({
    host: host!,
    prefix: prefix ?? '',
    scheme: (scheme as 'http' | 'https' | undefined) ?? (opts.insecure || isLoopback(host!) ? 'http' : 'https'),
    credentials,
    timeoutMs,
    maxBlobBytes: opts.maxBlobBytes,
  });
}

function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return name === 'localhost' || name === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(name);
}
