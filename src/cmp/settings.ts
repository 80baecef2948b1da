/**
 * What the plugin reads from its environment (DESIGN.md §9): the registry and its
 * credentials (plain or from mounted secret files), the cache, the extraction limits, and
 * signature key, and Argo CD's description of the Application being rendered. Only the sidecar's own variables
 * configure the plugin: `ARGOCD_ENV_*` values are set by whoever writes the Application, so
 * they never choose the registry, the credentials or the limits. This is the only plugin
 * module that reads `process.env` (both `forge-cmp` and `forge cmp` come here).
 */
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { type Env, integerFromEnv, switchFromEnv } from '../config/environment.js';
import { RESOURCE_LAYER_LIMITS as DEFAULT_RESOURCE_LIMITS } from '../core/release-limits.js';
import type { TarLimits } from '../core/tar.js';
import { registrySettingsFromEnv } from '../registry/settings.js';

export interface ArgoApp {
  name?: string;
  /** ARGOCD_APP_NAMESPACE: the Application's destination namespace. */
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
  /** FORGE_REGISTRY_TOKEN_REALM_HOSTS: other hosts whose token realms may receive the registry credentials (over https). */
  tokenRealmHosts: string[];
  cacheDir: string;
  cacheMaxBytes: number;
  /** FORGE_SIGNING_PUBLIC_KEY_FILE: when set, only releases signed with this key are rendered. */
  signingPublicKeyFile?: string;
  limits: TarLimits;
  /**
   * FORGE_CMP_DESTINATION_NAMESPACE_ONLY=true: every object of a release must be in the
   * Application's destination namespace (ARGOCD_APP_NAMESPACE); one naming another is refused
   * (repository isolation, issue 13 review F1). deploy/argocd turns it on.
   */
  destinationNamespaceOnly: boolean;
  app: ArgoApp;
  /** FORGE_DEBUG (any non-empty value): stack traces of unexpected failures on stderr. */
  debug: boolean;
}

export const DEFAULT_CACHE_MAX_BYTES = 512 * 1024 * 1024;

const positiveInteger = (env: Env, name: string, fallback: number) => integerFromEnv(env, name, fallback, 1);

/** The user's cache directory: XDG_CACHE_HOME, ~/Library/Caches on macOS, LOCALAPPDATA on Windows, else ~/.cache. */
function userCacheDir(env: Env): string {
  if (env.XDG_CACHE_HOME) return env.XDG_CACHE_HOME;
  if (platform() === 'darwin') return join(homedir(), 'Library', 'Caches');
  if (platform() === 'win32' && env.LOCALAPPDATA) return env.LOCALAPPDATA;
  return join(homedir(), '.cache');
}

/** Parses the plugin's environment (the process's own unless a test hands one); throws validation_error naming the variable at fault. */
export function loadCmpSettings(env: Env = process.env): CmpSettings {
  const registry = registrySettingsFromEnv(env);
  return {
    registry: registry.registry,
    username: registry.username,
    password: registry.password,
    insecure: registry.insecure,
    tokenRealmHosts: registry.tokenRealmHosts,
    cacheDir: env.FORGE_CMP_CACHE_DIR || join(userCacheDir(env), 'forge-cmp'),
    cacheMaxBytes: positiveInteger(env, 'FORGE_CMP_CACHE_MAX_BYTES', DEFAULT_CACHE_MAX_BYTES),
    signingPublicKeyFile: env.FORGE_SIGNING_PUBLIC_KEY_FILE || undefined,
    limits: {
      maxFiles: positiveInteger(env, 'FORGE_CMP_MAX_FILES', DEFAULT_RESOURCE_LIMITS.maxFiles),
      maxTotalBytes: positiveInteger(env, 'FORGE_CMP_MAX_TOTAL_BYTES', DEFAULT_RESOURCE_LIMITS.maxTotalBytes),
      maxFileBytes: positiveInteger(env, 'FORGE_CMP_MAX_FILE_BYTES', DEFAULT_RESOURCE_LIMITS.maxFileBytes),
    },
    destinationNamespaceOnly: switchFromEnv(env, 'FORGE_CMP_DESTINATION_NAMESPACE_ONLY'),
    app: {
      name: env.ARGOCD_APP_NAME || undefined,
      namespace: env.ARGOCD_APP_NAMESPACE || undefined,
      revision: env.ARGOCD_APP_REVISION || undefined,
      sourcePath: env.ARGOCD_APP_SOURCE_PATH || undefined,
      sourceRepoUrl: env.ARGOCD_APP_SOURCE_REPO_URL || undefined,
    },
    debug: Boolean(env.FORGE_DEBUG),
  };
}
