/**
 * What the plugin reads from its environment (DESIGN.md §9): the registry and its
 * credentials (plain or from mounted secret files), the cache, the extraction limits, and
 * signature key, and Argo CD's description of the Application being rendered. Only the sidecar's own variables
 * configure the plugin: `ARGOCD_ENV_*` values are set by whoever writes the Application, so
 * they never choose the registry, the credentials or the limits.
 */
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { DEFAULT_RESOURCE_LIMITS } from '../core/release-image.js';
import type { TarLimits } from '../core/tar.js';
import { secretFromEnv } from '../config/env-secret.js';

export interface ArgoApp {
  name?: string;
  namespace?: string;
  revision?: string;
  sourcePath?: string;
  sourceRepoUrl?: string;
}

export interface CmpSettings {
  /** FORGE_REGISTRY: `host[:port][/prefix]` or `oci-layout:PATH`. */
  registry?: string;
  username?: string;
  password?: string;
  insecure: boolean;
  cacheDir: string;
  cacheMaxBytes: number;
  /** FORGE_SIGNING_PUBLIC_KEY_FILE: when set, only releases signed with this key are rendered. */
  signingPublicKeyFile?: string;
  limits: TarLimits;
  app: ArgoApp;
}

export const DEFAULT_CACHE_MAX_BYTES = 512 * 1024 * 1024;


function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ForgeError('validation_error', `${name} is "${raw}"; expected a positive integer`, { field: name });
  return n;
}

/** The user's cache directory: XDG_CACHE_HOME, ~/Library/Caches on macOS, LOCALAPPDATA on Windows, else ~/.cache. */
function userCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.XDG_CACHE_HOME) return env.XDG_CACHE_HOME;
  if (platform() === 'darwin') return join(homedir(), 'Library', 'Caches');
  if (platform() === 'win32' && env.LOCALAPPDATA) return env.LOCALAPPDATA;
  return join(homedir(), '.cache');
}

export function loadCmpSettings(env: NodeJS.ProcessEnv = process.env): CmpSettings {
  return {
    registry: env.FORGE_REGISTRY?.trim() || undefined,
    username: secretFromEnv(env, 'FORGE_REGISTRY_USERNAME'),
    password: secretFromEnv(env, 'FORGE_REGISTRY_PASSWORD'),
    insecure: env.FORGE_REGISTRY_INSECURE === 'true',
    cacheDir: env.FORGE_CMP_CACHE_DIR || join(userCacheDir(env), 'forge-cmp'),
    cacheMaxBytes: positiveInteger(env, 'FORGE_CMP_CACHE_MAX_BYTES', DEFAULT_CACHE_MAX_BYTES),
    signingPublicKeyFile: env.FORGE_SIGNING_PUBLIC_KEY_FILE || undefined,
    limits: {
      maxFiles: positiveInteger(env, 'FORGE_CMP_MAX_FILES', DEFAULT_RESOURCE_LIMITS.maxFiles),
      maxTotalBytes: positiveInteger(env, 'FORGE_CMP_MAX_TOTAL_BYTES', DEFAULT_RESOURCE_LIMITS.maxTotalBytes),
      maxFileBytes: positiveInteger(env, 'FORGE_CMP_MAX_FILE_BYTES', DEFAULT_RESOURCE_LIMITS.maxFileBytes),
    },
    app: {
      name: env.ARGOCD_APP_NAME || undefined,
      namespace: env.ARGOCD_APP_NAMESPACE || undefined,
      revision: env.ARGOCD_APP_REVISION || undefined,
      sourcePath: env.ARGOCD_APP_SOURCE_PATH || undefined,
      sourceRepoUrl: env.ARGOCD_APP_SOURCE_REPO_URL || undefined,
    },
  };
}
