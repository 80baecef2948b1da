/**
 * The `forge` command line's settings (DESIGN.md §4, §14): every environment variable the CLI
 * and the pipeline it runs (`forge release create`, `forge render`, `forge validate`) read,
 * parsed once into typed settings that commands pass down. This is the only CLI module that
 * reads `process.env` (`forge serve` reads the server's, src/server/settings.ts; `forge cmp`
 * the plugin's, src/cmp/settings.ts).
 *
 * Secrets (FORGE_TOKEN) are resolved when a command runs, never as a commander default, so
 * they do not appear in `--help` or in usage errors that CI logs.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Env, textFromEnv } from '../config/environment.js';
import type { PublishSettings } from '../pipeline/artifacts.js';
import { type CueRegistrySettings, cueRegistrySettings } from '../pipeline/cue-engine.js';
import type { CiCheckout } from '../pipeline/git-context.js';
import { type RegistrySettings, registrySettingsFromEnv } from '../registry/settings.js';

/** What `forge release create` and the pipeline under it read from the CI run (DESIGN.md §4). */
export interface PipelineSettings {
  /** GITHUB_SHA, GITHUB_REF. */
  ci: CiCheckout;
  /** DOCKER_CONFIG (default ~/.docker), FORGE_REGISTRY_INSECURE, FORGE_TRACKING_REGISTRY. */
  publish: PublishSettings;
  /** The environment artifact producer commands run in: the CLI's own (PATH, HOME, the CI's variables). */
  environment: Env;
}

export interface CliSettings {
  /** FORGE_URL (default http://127.0.0.1:8080): the server client commands talk to. */
  server: string;
  /** FORGE_TOKEN; undefined = the token `forge login` stored for the server. */
  token?: string;
  /** Where `forge login` keeps credentials: FORGE_CONFIG_DIR, else $XDG_CONFIG_HOME/forge, else ~/.config/forge. */
  configDir: string;
  /** FORGE_DEBUG (any non-empty value): error details and stack traces on stderr. */
  debug: boolean;
  /** FORGE_DATA_DIR (default .forge-data): the embedded server's data directory, for `forge token create`. */
  dataDir: string;
  /** FORGE_TOKEN_KEY_FILE; undefined = `token-key` in the data directory. */
  tokenKeyFile?: string;
  /** FORGE_TOKEN_MAX_LIFETIME as written (a duration; default 90d): `forge token create` refuses a longer --ttl. */
  tokenMaxLifetime?: string;
  /** FORGE_SIGNING_PUBLIC_KEY_FILE: the key `forge release verify` checks signatures with. */
  signingPublicKeyFile?: string;
  /** The registry credentials `forge release inspect|verify` pull release images with. */
  registry: RegistrySettings;
  /** Defaults of `forge login`'s device flow: FORGE_OIDC_ISSUER, FORGE_OIDC_CLIENT_ID, the first of FORGE_OIDC_AUDIENCE. */
  oidc: { issuer?: string; clientId?: string; audience?: string };
  pipeline: PipelineSettings;
  /** Where CUE module dependencies come from: CUE_REGISTRY and CUE_CACHE_DIR as the `cue` command reads them, plus Forge's registry credentials for its own host (docs/cue.md). */
  cue: CueRegistrySettings;
}

/** Parses the CLI's environment (the process's own at start; a plain object in tests). Throws validation_error naming the variable at fault. */
export function loadCliSettings(env: Env): CliSettings {
  const registry = registrySettingsFromEnv(env);
  return {
    server: env.FORGE_URL ?? 'http://127.0.0.1:8080',
    token: env.FORGE_TOKEN || undefined,
    configDir: env.FORGE_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'forge'),
    debug: Boolean(env.FORGE_DEBUG),
    dataDir: env.FORGE_DATA_DIR ?? '.forge-data',
    tokenKeyFile: env.FORGE_TOKEN_KEY_FILE || undefined,
    tokenMaxLifetime: textFromEnv(env, 'FORGE_TOKEN_MAX_LIFETIME'),
    signingPublicKeyFile: env.FORGE_SIGNING_PUBLIC_KEY_FILE || undefined,
    registry,
    oidc: {
      issuer: env.FORGE_OIDC_ISSUER || undefined,
      clientId: env.FORGE_OIDC_CLIENT_ID || undefined,
      audience: env.FORGE_OIDC_AUDIENCE?.split(',')[0] || undefined,
    },
    pipeline: {
      ci: { GITHUB_SHA: env.GITHUB_SHA, GITHUB_REF: env.GITHUB_REF },
      publish: {
        dockerConfigDir: env.DOCKER_CONFIG ?? join(homedir(), '.docker'),
        insecure: registry.insecure,
        trackingRegistry: textFromEnv(env, 'FORGE_TRACKING_REGISTRY'),
      },
      environment: { ...env },
    },
    cue: cueRegistrySettings(registry, { registry: textFromEnv(env, 'CUE_REGISTRY'), cacheDir: textFromEnv(env, 'CUE_CACHE_DIR') }),
  };
}

let loaded: CliSettings | undefined;

/** This process's settings, parsed from its environment on first use and kept: every command sees the same values. */
export function cliSettings(): CliSettings {
  loaded ??= loadCliSettings(process.env);
  return loaded;
}
