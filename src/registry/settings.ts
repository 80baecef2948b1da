/**
 * The registry settings every entry point shares (DESIGN.md §5, §9, §14), parsed in one place
 * from the environment its settings module hands over: FORGE_REGISTRY, FORGE_REGISTRY_USERNAME
 * and FORGE_REGISTRY_PASSWORD (or their _FILE forms), FORGE_REGISTRY_INSECURE,
 * FORGE_REGISTRY_TIMEOUT_MS. The fields spread into `openReleaseStore`'s options.
 */
import { type Env, integerFromEnv, secretFromEnv, switchFromEnv, textFromEnv } from '../config/environment.js';
import { ForgeError } from '../core/errors.js';
import { DEFAULT_REGISTRY_TIMEOUT_MS } from './index.js';

export interface RegistrySettings {
  /** `host[:port][/prefix]` or `oci-layout:PATH`; undefined = the embedded layout under the data dir. */
  registry?: string;
  username?: string;
  password?: string;
  /** Plain HTTP to a non-loopback host (FORGE_REGISTRY_INSECURE=true). */
  insecure: boolean;
  /** Per-request timeout, milliseconds (default 30 000). */
  timeoutMs: number;
  /** Hosts besides the registry's own whose token realms may receive the credentials, over https (comma-separated; e.g. auth.docker.io). */
  tokenRealmHosts: string[];
}

/** Throws validation_error naming the variable for an unreadable _FILE or a bad timeout. */
export function registrySettingsFromEnv(env: Env): RegistrySettings {
  return {
    registry: registryFromEnv(env),
    username: secretFromEnv(env, 'FORGE_REGISTRY_USERNAME'),
    password: secretFromEnv(env, 'FORGE_REGISTRY_PASSWORD'),
    insecure: switchFromEnv(env, 'FORGE_REGISTRY_INSECURE'),
    timeoutMs: integerFromEnv(env, 'FORGE_REGISTRY_TIMEOUT_MS', DEFAULT_REGISTRY_TIMEOUT_MS, 1),
    tokenRealmHosts: realmHostsFromEnv(env),
  };
}

/**
 * FORGE_REGISTRY: `user:password@host` is refused, and the value is not quoted (issue 19, attack
 * review C): the credentials go in FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD.
 */
function registryFromEnv(env: Env): string | undefined {
  const registry = textFromEnv(env, 'FORGE_REGISTRY');
  if (registry && !registry.startsWith('oci-layout:') && registry.includes('@'))
    throw new ForgeError(
      'validation_error',
      'FORGE_REGISTRY holds "@" (user:password@host?); the value is not shown. Expected host[:port][/prefix] or oci-layout:PATH, with the credentials in FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD (or their _FILE forms)',
      { field: 'FORGE_REGISTRY' },
    );
  return registry;
}

/** FORGE_REGISTRY_TOKEN_REALM_HOSTS: comma-separated host names (no scheme, no path). */
function realmHostsFromEnv(env: Env): string[] {
  const hosts = (textFromEnv(env, 'FORGE_REGISTRY_TOKEN_REALM_HOSTS') ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const bad = hosts.find((h) => !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[[0-9a-f:]+\]$/.test(h));
  if (bad !== undefined)
    throw new ForgeError(
      'validation_error',
      `FORGE_REGISTRY_TOKEN_REALM_HOSTS: "${bad}" is not a host name; expected comma-separated host names such as auth.docker.io (no scheme, port or path)`,
      { field: 'FORGE_REGISTRY_TOKEN_REALM_HOSTS' },
    );
  return hosts;
}
