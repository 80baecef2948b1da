/** Server settings (DESIGN.md §14): flags, then environment variables, then embedded defaults. */
import { resolve } from 'node:path';
import { type OidcSettings, oidcSettingsFromEnv } from './oidc.js';
import { type WebhookSettings, webhookSettingsFromEnv } from '../services/webhooks.js';
import { secretFromEnv } from '../config/env-secret.js';

export interface Settings {
  host: string;
  port: number;
  dataDir: string;
  configFile?: string;
  databaseUrl?: string;
  registry?: string;
  registryUsername?: string;
  registryPassword?: string;
  registryInsecure: boolean;
  /** Per-request registry timeout (FORGE_REGISTRY_TIMEOUT_MS, default 30 s). */
  registryTimeoutMs: number;
  gitopsUrl?: string;
  gitopsBranch: string;
  tokenKeyFile?: string;
  /** The company's OIDC issuer (FORGE_OIDC_*, src/server/oidc.ts); unset = embedded tokens only. */
  oidc?: OidcSettings;
  /** The dashboard's public OIDC client id (FORGE_OIDC_WEB_CLIENT_ID): with an issuer, the page offers the OIDC log-in. */
  oidcWebClientId?: string;
  /** The scopes the dashboard asks for (FORGE_OIDC_WEB_SCOPE, default "openid email"). */
  oidcWebScope: string;
  /** Webhook receivers (FORGE_WEBHOOKS*, src/services/webhooks.ts); unset = none. */
  webhooks?: WebhookSettings;
  /** The release signing key (FORGE_SIGNING_KEY_FILE; default signing-key.pem in the data dir, created when missing). */
  signingKeyFile?: string;
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Most Kubernetes objects one release may hold. */
  maxResources: number;
  /** JSON request log on stderr (FORGE_LOG=off silences it). */
  log: boolean;
}


export function loadSettings(flags: { host?: string; port?: string | number; dataDir?: string; config?: string }, env = process.env): Settings {
  const port = Number(flags.port ?? env.FORGE_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port "${flags.port ?? env.FORGE_PORT}": expected 0-65535`);
  return {
    host: flags.host ?? env.FORGE_HOST ?? '127.0.0.1',
    port,
    dataDir: resolve(flags.dataDir ?? env.FORGE_DATA_DIR ?? '.forge-data'),
    configFile: flags.config ?? env.FORGE_CONFIG,
    databaseUrl: env.FORGE_DATABASE_URL || undefined,
    registry: env.FORGE_REGISTRY || undefined,
    registryUsername: secretFromEnv(env, 'FORGE_REGISTRY_USERNAME'),
    registryPassword: secretFromEnv(env, 'FORGE_REGISTRY_PASSWORD'),
    registryInsecure: env.FORGE_REGISTRY_INSECURE === 'true',
    registryTimeoutMs: Number(env.FORGE_REGISTRY_TIMEOUT_MS ?? 30_000),
    gitopsUrl: env.FORGE_GITOPS_URL || undefined,
    gitopsBranch: env.FORGE_GITOPS_BRANCH || 'main',
    tokenKeyFile: env.FORGE_TOKEN_KEY_FILE || undefined,
    oidc: oidcSettingsFromEnv(env),
    oidcWebClientId: env.FORGE_OIDC_WEB_CLIENT_ID?.trim() || undefined,
    oidcWebScope: env.FORGE_OIDC_WEB_SCOPE?.trim() || 'openid email',
    webhooks: webhookSettingsFromEnv(env),
    signingKeyFile: env.FORGE_SIGNING_KEY_FILE || undefined,
    bodyLimit: Number(env.FORGE_BODY_LIMIT_BYTES ?? 16 * 1024 * 1024),
    maxResources: Number(env.FORGE_MAX_RESOURCES ?? 5000),
    log: env.FORGE_LOG !== 'off',
  };
}
