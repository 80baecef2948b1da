/**
 * `forge serve`'s settings (DESIGN.md §14): flags, then environment variables, then embedded
 * defaults, read once at start into typed settings that are passed down. This is the only
 * server module that reads `process.env`; the parsers it calls (registry, GitOps remote, OIDC,
 * webhooks) get the environment from here. The platform config file (`--config` /
 * FORGE_CONFIG) is read and validated here too, so a bad file or a bad number stops the start,
 * naming the file's line or the variable.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Env, integerFromEnv, secretFromEnv, textFromEnv } from '../config/environment.js';
import { parseDuration } from '../core/duration.js';
import { ForgeError } from '../core/errors.js';
import { DEFAULT_PLATFORM_CONFIG, type PlatformConfig, parsePlatformConfig } from '../core/platform-config.js';
import { parseRfc3339 } from '../core/rfc3339.js';
import { defaultRemotePath, type RemoteSettings } from '../gitops/remote.js';
import { registrySettingsFromEnv } from '../registry/settings.js';
import type { ArgocdSettings } from '../services/argocd-poller.js';
import { type WebhookSettings, webhookSettingsFromEnv } from '../services/webhooks.js';
import { type OidcSettings, oidcSettingsFromEnv } from './oidc.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from './tokens.js';

export interface Settings {
  host: string;
  port: number;
  dataDir: string;
  /** The platform config file (`--config`, FORGE_CONFIG); unset = the spec's three environments. */
  configFile?: string;
  /** The environments and their policies, parsed and validated from `configFile` at load. */
  platform: PlatformConfig;
  databaseUrl?: string;
  registry?: string;
  registryUsername?: string;
  registryPassword?: string;
  registryInsecure: boolean;
  /** Per-request registry timeout, ms (FORGE_REGISTRY_TIMEOUT_MS, default 30 000). */
  registryTimeoutMs: number;
  /** FORGE_REGISTRY_TOKEN_REALM_HOSTS: other hosts whose token realms may receive the registry credentials. */
  registryTokenRealmHosts: string[];
  /** FORGE_GITOPS_URL; unset = an embedded bare repository under the data directory. */
  gitopsUrl?: string;
  gitopsBranch: string;
  /** The GitOps remote's credentials and git's environment (src/gitops/remote.ts). */
  gitopsRemote: RemoteSettings;
  /** Author and committer of GitOps commits, `Name <email>` (FORGE_GITOPS_AUTHOR, default 'Forge <forge@localhost>'). */
  gitopsAuthor: string;
  /** Fetch-commit-push attempts per batch before a deployment fails (FORGE_GITOPS_PUSH_ATTEMPTS, default 25). */
  gitopsPushAttempts: number;
  /** Lease of a replica on a pending deployment, ms (FORGE_DEPLOY_LEASE_MS, default 30 000). */
  deployLeaseMs: number;
  /**
   * PostgreSQL only: how long a request waits for a lock another replica holds (the GitOps turn,
   * a deployment slot, the audit chain, a row) before answering 503 with Retry-After, ms
   * (FORGE_DATABASE_LOCK_WAIT_MS, default 120 000, twice the idle bound: a backstop, since a frozen
   * holder is already ended by FORGE_DATABASE_IDLE_TRANSACTION_MS, and a busy fleet's queue for
   * the GitOps turn can be long; 0 = wait forever).
   */
  databaseLockWaitMs: number;
  /**
   * PostgreSQL only: a transaction left idle this long (a replica frozen or cut off while holding
   * a lock) is ended by PostgreSQL, freeing its locks, ms (FORGE_DATABASE_IDLE_TRANSACTION_MS,
   * default 60 000; 0 = never). Must exceed the longest GitOps push, which runs inside the turn.
   */
  databaseIdleTransactionMs: number;
  /** Test-only pauses, ms (FORGE_FAULT_PAUSE_*; default 0 = none): widen race windows so fault tests can hit them. */
  faults: {
    /** FORGE_FAULT_PAUSE_BEFORE_GITOPS_PUSH_MS */
    pauseBeforeGitopsPushMs: number;
    /** FORGE_FAULT_PAUSE_AFTER_GITOPS_PUSH_MS */
    pauseAfterGitopsPushMs: number;
    /** FORGE_FAULT_PAUSE_AFTER_PUSH_MS: after a release image is pushed, before it is recorded. */
    pauseAfterRegistryPushMs: number;
  };
  /** FORGE_TOKEN_KEY_FILE; unset = `token-key` in the data directory. */
  tokenKeyFile?: string;
  /** Longest embedded token lifetime, seconds (FORGE_TOKEN_MAX_LIFETIME, a duration, default 90d); longer tokens are refused (issue 19 item 5). */
  tokenMaxLifetimeSeconds: number;
  /** FORGE_LEGACY_TOKENS_UNTIL (RFC 3339 date or time): tokens without an id or expiry are accepted until then; unset = refused. */
  legacyTokensUntil?: Date;
  /** The company's OIDC issuer (FORGE_OIDC_*, src/server/oidc.ts); unset = embedded tokens only. */
  oidc?: OidcSettings;
  /** The dashboard's public OIDC client id (FORGE_OIDC_WEB_CLIENT_ID): with an issuer, the page offers the OIDC log-in. */
  oidcWebClientId?: string;
  /** The scopes the dashboard asks for (FORGE_OIDC_WEB_SCOPE, default "openid email"). */
  oidcWebScope: string;
  /**
   * Argo CD (issue 15): FORGE_ARGOCD_URL and FORGE_ARGOCD_TOKEN[_FILE] to poll its API (unset:
   * notifications only), FORGE_ARGOCD_POLL_MS the period of the poll and of the gate and
   * rollback sweeps (default 30 000), FORGE_ARGOCD_TIMEOUT_MS per request (default 10 000),
   * FORGE_ARGOCD_REPO_URL the GitOps repository's URL as Argo CD's Applications name it.
   */
  argocd: ArgocdSettings;
  /** Webhook receivers (FORGE_WEBHOOKS*, src/services/webhooks.ts); unset = none. */
  webhooks?: WebhookSettings;
  /** The release signing key (FORGE_SIGNING_KEY_FILE; default signing-key.pem in the data dir, created when missing). */
  signingKeyFile?: string;
  /** Largest registration body, bytes (FORGE_BODY_LIMIT_BYTES, default 16 MiB); every other route takes at most 1 MiB (OTHER_BODY_LIMIT, server/app.ts) or this, whichever is smaller. */
  bodyLimit: number;
  /** Most Kubernetes objects one release may hold (FORGE_MAX_RESOURCES, default 5000). */
  maxResources: number;
  /**
   * Memory the release resolution cache may use per replica, MiB (FORGE_RELEASE_CACHE_MIB,
   * 0–65536; default 256 with the embedded database, 64 with PostgreSQL, where 100,000 releases
   * take about 35; 0 turns it off: services/release-cache.ts).
   */
  releaseCacheMib: number;
  /**
   * How far V8 lets the JavaScript heap grow past what its last full collection kept before it
   * collects again, percent (FORGE_HEAP_GROWTH_PERCENT, 0–400; default 20 with PostgreSQL, 0 =
   * V8's own rule, embedded). V8's rule lets a small heap grow up to 4× before collecting: under
   * resolution load a PostgreSQL replica at 100,000 releases kept ~70 MiB of garbage and stood at
   * 207–248 MiB against its 200 MiB budget (issue #18 acceptance 7). Set with
   * `v8.setFlagsFromString('--heap-growing-percent=…')` when the server starts (server/start.ts).
   */
  heapGrowthPercent: number;
  /** Most open `GET /events` streams per replica (FORGE_MAX_EVENT_STREAMS, default 500); more are a 429. */
  maxEventStreams: number;
  /** Most open `GET /events` streams of one subject per replica (FORGE_MAX_EVENT_STREAMS_PER_SUBJECT, default 20); more are a 429. */
  maxEventStreamsPerSubject: number;
  /**
   * Most open client connections per replica (FORGE_MAX_CONNECTIONS; default 80% of the
   * process's open-file limit, keeping at least 256 descriptors for the database, registry, git
   * and files; 1000 when the limit cannot be read). One more connection is closed at once, so a
   * flood of idle sockets never uses up the descriptors (issue 19, attack review A).
   */
  maxConnections: number;
  /** Time a client has to send the request line and headers, ms (FORGE_HEADERS_TIMEOUT_MS, default 15 000); then the connection is closed. */
  headersTimeoutMs: number;
  /**
   * Time a client has to send the whole request, headers and body, ms (FORGE_REQUEST_TIMEOUT_MS,
   * default 120 000: a 16 MiB registration at 1.2 Mbit/s); then it gets a 408 and is closed. At
   * least FORGE_HEADERS_TIMEOUT_MS. The answer (an event stream) is not bounded by it.
   */
  requestTimeoutMs: number;
  /** JSON request log on stderr (FORGE_LOG=off silences it). */
  log: boolean;
}

/** Descriptors kept for everything but client connections (database, registry, git, files). */
const RESERVED_DESCRIPTORS = 256;

/**
 * The default FORGE_MAX_CONNECTIONS for an open-file limit `fdLimit` (undefined = unknown):
 * 80% of the limit and at least RESERVED_DESCRIPTORS below it, never under 16; 1000 when unknown.
 */
export function defaultMaxConnections(fdLimit: number | undefined): number {
  if (fdLimit === undefined || !Number.isFinite(fdLimit)) return 1000;
  return Math.max(16, Math.min(Math.floor(fdLimit * 0.8), fdLimit - RESERVED_DESCRIPTORS));
}

/** The process's soft open-file limit from /proc/self/limits (Linux); undefined elsewhere or when unlimited. */
function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The URL setting `name`, checked: one of `schemes` (`http:`); undefined when unset. The value is
 * never quoted in the error: a URL may carry a password.
 */
function urlFromEnv(env: Env, name: string, schemes: string[], expected: string): string | undefined {
  const raw = textFromEnv(env, name);
  if (!raw) return undefined;
  if (!URL.canParse(raw) || !schemes.includes(new URL(raw).protocol))
    throw new ForgeError(
      'validation_error',
      `${name} is not ${schemes.map((p) => `a ${p}//`).join(' or ')} URL (the value is not shown: it may hold a password); expected ${expected}`,
      { field: name },
    );
  return raw;
}

/** FORGE_TOKEN_MAX_LIFETIME as seconds (default 90 days); the CLI's `forge token create` reads the same variable. */
export function tokenMaxLifetimeFromEnv(env: Env): number {
  const raw = textFromEnv(env, 'FORGE_TOKEN_MAX_LIFETIME');
  if (raw === undefined) return DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  const ms = parseDuration(raw);
  if (ms === undefined || ms < 1000)
    throw new ForgeError('validation_error', `FORGE_TOKEN_MAX_LIFETIME is "${raw}"; expected a duration such as 30d or 12h`, {
      field: 'FORGE_TOKEN_MAX_LIFETIME',
    });
  return Math.floor(ms / 1000);
}

/** FORGE_LEGACY_TOKENS_UNTIL: a date (2027-01-31, midnight UTC) or an RFC 3339 time; undefined when unset. */
function legacyTokensUntil(env: Env): Date | undefined {
  const raw = textFromEnv(env, 'FORGE_LEGACY_TOKENS_UNTIL');
  if (raw === undefined) return undefined;
  // One parser for every time a user gives (src/core/rfc3339.ts): 2027-02-30 is refused.
  const at = parseRfc3339(/^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw)?.getTime();
  if (at === undefined)
    throw new ForgeError(
      'validation_error',
      `FORGE_LEGACY_TOKENS_UNTIL is "${raw}"; expected a date (2027-01-31) or an RFC 3339 time (2027-01-31T12:00:00Z)`,
      { field: 'FORGE_LEGACY_TOKENS_UNTIL' },
    );
  return new Date(at);
}

export interface ServeFlags {
  host?: string;
  port?: string | number;
  dataDir?: string;
  config?: string;
}

/**
 * Reads the settings once. `env` is the process's environment (tests hand a plain object).
 * Throws: validation_error naming the variable for a bad number, duration or unreadable
 * _FILE; PlatformConfigError with the file's lines for a bad platform config; the read
 * error for a config file that cannot be read.
 */
export function loadSettings(flags: ServeFlags, env: Env = process.env): Settings {
  const port = Number(flags.port ?? env.FORGE_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid port "${flags.port ?? env.FORGE_PORT}": expected 0-65535`);
  const dataDir = resolve(flags.dataDir ?? env.FORGE_DATA_DIR ?? '.forge-data');
  const configFile = flags.config || env.FORGE_CONFIG || undefined;
  const registry = registrySettingsFromEnv(env);
  const gitopsUrl = env.FORGE_GITOPS_URL || undefined;
  return {
    host: flags.host ?? env.FORGE_HOST ?? '127.0.0.1',
    port,
    dataDir,
    configFile,
    platform: configFile ? parsePlatformConfig(readFileSync(configFile, 'utf8'), configFile) : DEFAULT_PLATFORM_CONFIG,
    databaseUrl: urlFromEnv(
      env,
      'FORGE_DATABASE_URL',
      ['postgres:', 'postgresql:'],
      'postgres://USER:PASSWORD@HOST:5432/DATABASE, or unset it for the embedded database',
    ),
    registry: registry.registry,
    registryUsername: registry.username,
    registryPassword: registry.password,
    registryInsecure: registry.insecure,
    registryTimeoutMs: registry.timeoutMs,
    registryTokenRealmHosts: registry.tokenRealmHosts,
    gitopsUrl,
    gitopsBranch: env.FORGE_GITOPS_BRANCH || 'main',
    gitopsRemote: {
      url: gitopsUrl,
      dataDir,
      sshKeyFile: env.FORGE_GITOPS_SSH_KEY_FILE || undefined,
      knownHostsFile: env.FORGE_GITOPS_SSH_KNOWN_HOSTS_FILE || undefined,
      token: secretFromEnv(env, 'FORGE_GITOPS_TOKEN'),
      environment: { ...env },
    },
    gitopsAuthor: env.FORGE_GITOPS_AUTHOR || 'Forge <forge@localhost>',
    gitopsPushAttempts: integerFromEnv(env, 'FORGE_GITOPS_PUSH_ATTEMPTS', 25, 1),
    deployLeaseMs: integerFromEnv(env, 'FORGE_DEPLOY_LEASE_MS', 30_000, 1),
    databaseLockWaitMs: postgresMillis(env, 'FORGE_DATABASE_LOCK_WAIT_MS', 120_000),
    databaseIdleTransactionMs: postgresMillis(env, 'FORGE_DATABASE_IDLE_TRANSACTION_MS', 60_000),
    faults: {
      pauseBeforeGitopsPushMs: integerFromEnv(env, 'FORGE_FAULT_PAUSE_BEFORE_GITOPS_PUSH_MS', 0),
      pauseAfterGitopsPushMs: integerFromEnv(env, 'FORGE_FAULT_PAUSE_AFTER_GITOPS_PUSH_MS', 0),
      pauseAfterRegistryPushMs: integerFromEnv(env, 'FORGE_FAULT_PAUSE_AFTER_PUSH_MS', 0),
    },
    tokenKeyFile: env.FORGE_TOKEN_KEY_FILE || undefined,
    tokenMaxLifetimeSeconds: tokenMaxLifetimeFromEnv(env),
    legacyTokensUntil: legacyTokensUntil(env),
    oidc: oidcSettingsFromEnv(env),
    oidcWebClientId: textFromEnv(env, 'FORGE_OIDC_WEB_CLIENT_ID'),
    oidcWebScope: textFromEnv(env, 'FORGE_OIDC_WEB_SCOPE') ?? 'openid email',
    webhooks: webhookSettingsFromEnv(env),
    argocd: {
      url: urlFromEnv(env, 'FORGE_ARGOCD_URL', ['http:', 'https:'], "the URL of Argo CD's API server")?.replace(/\/+$/, ''),
      token: secretFromEnv(env, 'FORGE_ARGOCD_TOKEN'),
      pollMs: integerFromEnv(env, 'FORGE_ARGOCD_POLL_MS', 30_000, 1),
      timeoutMs: integerFromEnv(env, 'FORGE_ARGOCD_TIMEOUT_MS', 10_000, 1),
      // FORGE_ARGOCD_REPO_URL: how Argo CD's Applications spell the GitOps repository's URL
      // (default FORGE_GITOPS_URL; with the embedded repository, its path).
      repoUrl: textFromEnv(env, 'FORGE_ARGOCD_REPO_URL') ?? gitopsUrl ?? defaultRemotePath(dataDir),
    },
    signingKeyFile: env.FORGE_SIGNING_KEY_FILE || undefined,
    bodyLimit: integerFromEnv(env, 'FORGE_BODY_LIMIT_BYTES', 16 * 1024 * 1024, 1),
    maxResources: integerFromEnv(env, 'FORGE_MAX_RESOURCES', 5000, 1),
    releaseCacheMib: integerFromEnv(env, 'FORGE_RELEASE_CACHE_MIB', env.FORGE_DATABASE_URL ? 64 : 256, 0, 65536),
    heapGrowthPercent: integerFromEnv(env, 'FORGE_HEAP_GROWTH_PERCENT', env.FORGE_DATABASE_URL ? 20 : 0, 0, 400),
    maxEventStreams: integerFromEnv(env, 'FORGE_MAX_EVENT_STREAMS', 500, 1),
    maxEventStreamsPerSubject: integerFromEnv(env, 'FORGE_MAX_EVENT_STREAMS_PER_SUBJECT', 20, 1),
    maxConnections: integerFromEnv(env, 'FORGE_MAX_CONNECTIONS', defaultMaxConnections(openFileLimit()), 1),
    ...requestTimeouts(env),
    log: env.FORGE_LOG !== 'off',
  };
}

/** FORGE_HEADERS_TIMEOUT_MS and FORGE_REQUEST_TIMEOUT_MS, ms; the request's bound must not be shorter than the headers'. */
function requestTimeouts(env: Env): { headersTimeoutMs: number; requestTimeoutMs: number } {
  const headersTimeoutMs = integerFromEnv(env, 'FORGE_HEADERS_TIMEOUT_MS', 15_000, 1);
  const requestTimeoutMs = integerFromEnv(env, 'FORGE_REQUEST_TIMEOUT_MS', 120_000, 1);
  if (requestTimeoutMs < headersTimeoutMs)
    throw new ForgeError(
      'validation_error',
      `FORGE_REQUEST_TIMEOUT_MS (${requestTimeoutMs}) is shorter than FORGE_HEADERS_TIMEOUT_MS (${headersTimeoutMs}); expected at least as long: it bounds the headers and the body`,
      { field: 'FORGE_REQUEST_TIMEOUT_MS' },
    );
  return { headersTimeoutMs, requestTimeoutMs };
}

/** A PostgreSQL timeout setting, ms: a non-negative integer PostgreSQL accepts (at most 2^31 - 1). */
function postgresMillis(env: Env, name: string, fallback: number): number {
  const ms = integerFromEnv(env, name, fallback);
  if (ms > 2_147_483_647)
    throw new ForgeError('validation_error', `${name} is "${env[name]}"; expected at most 2147483647 (ms)`, { field: name });
  return ms;
}
