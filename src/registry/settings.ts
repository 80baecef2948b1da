/**
 * The registry settings every entry point shares (DESIGN.md §5, §9, §14), parsed in one place
 * from the environment its settings module hands over: FORGE_REGISTRY, FORGE_REGISTRY_USERNAME
 * and FORGE_REGISTRY_PASSWORD (or their _FILE forms), FORGE_REGISTRY_INSECURE,
 * FORGE_REGISTRY_TIMEOUT_MS. The fields spread into `openReleaseStore`'s options.
 */
import { type Env, integerFromEnv, secretFromEnv, switchFromEnv, textFromEnv } from '../config/environment.js';
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
}

/** Throws validation_error naming the variable for an unreadable _FILE or a bad timeout. */
export function registrySettingsFromEnv(env: Env): RegistrySettings {
  return {
    registry: textFromEnv(env, 'FORGE_REGISTRY'),
    username: secretFromEnv(env, 'FORGE_REGISTRY_USERNAME'),
    password: secretFromEnv(env, 'FORGE_REGISTRY_PASSWORD'),
    insecure: switchFromEnv(env, 'FORGE_REGISTRY_INSECURE'),
    timeoutMs: integerFromEnv(env, 'FORGE_REGISTRY_TIMEOUT_MS', DEFAULT_REGISTRY_TIMEOUT_MS, 1),
  };
}
