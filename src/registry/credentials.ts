/**
 * Registry credentials as providers behind one interface (DESIGN.md §4, §5, §9; distribution
 * spec): a registry answers an unauthenticated request with 401 and a `WWW-Authenticate`
 * challenge; a provider learns from it what to send on the retry. Three providers:
 *
 *   basic                 a username and password, sent as HTTP Basic (FORGE_REGISTRY_USERNAME/_PASSWORD)
 *   bearer-token exchange the same credentials traded at the challenge's realm for a token per scope
 *   docker config file    the `auths` of `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`) for
 *                         the registry's host, then basic or bearer exchange with them (the CI's
 *                         publishing credentials; credential helpers are not run)
 *
 * Tokens are kept in memory per scope until shortly before they expire; that cache only saves
 * round trips.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { parseJsonText } from '../core/json-text.js';
import { BodyTooLargeError, readBodyCapped } from '../http/response-body.js';
import { describeFetchError } from './fetch-errors.js';

export interface Credentials {
  username?: string;
  password?: string;
}

/** A parsed `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"` → scheme "bearer" and its parameters. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** One way of answering a registry's 401 challenges. */
export interface CredentialProvider {
  /** Whether any credentials are configured (false: a 401 means "none configured", not "rejected"). Known after the first `answer`. */
  configured(): boolean;
  /** Where credentials are set, for messages. */
  readonly hint: string;
  /** The Authorization header for a request in `scope` (e.g. `repository:acme/api:pull`), from what earlier challenges taught; undefined = send none. */
  header(scope: string): string | undefined;
  /**
   * Learns from a 401 challenge for `scope`. Answers true when `header(scope)` now carries
   * credentials worth one retry, false when the challenge's scheme is not this provider's.
   * Throws registry_unavailable when it is, but cannot be met (no credentials, token service refused).
   */
  answer(challenge: Challenge, scope: string): Promise<boolean>;
}

export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { scheme, params };
}

function unavailable(message: string): ForgeError {
  return new ForgeError('registry_unavailable', message);
}

/** Bounds of the token service's answer: it is a small JSON document. */
const MAX_TOKEN_ANSWER_BYTES = 1024 * 1024;

function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** `host[:port]` → its lower-case host name (brackets kept for IPv6). */
function hostnameOf(host: string): string {
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return host.toLowerCase();
  }
}

/**
 * Why credentials must not be sent to the token `realm` a registry's challenge names, or
 * undefined when they may (issue 19 item 4): only to the registry's own host name (any port)
 * or a host listed in FORGE_REGISTRY_TOKEN_REALM_HOSTS, and only over https; plain http only
 * when the realm is on a loopback address (a registry on the same machine: tests, local use).
 */
export function realmRefusal(registryHost: string, realm: URL, allowedHosts: readonly string[] = []): string | undefined {
  const name = realm.hostname.toLowerCase();
  const allowed = allowedHosts.map((h) => hostnameOf(h.trim())).filter(Boolean);
  if (name !== hostnameOf(registryHost) && !allowed.includes(name))
    return `it is not on ${hostnameOf(registryHost)}; list ${name} in FORGE_REGISTRY_TOKEN_REALM_HOSTS to allow it`;
  if (realm.protocol === 'https:') return undefined;
  if (realm.protocol === 'http:' && isLoopbackName(name)) return undefined;
  return `it is ${realm.protocol.replace(':', '')}, not https (plain http is allowed only to a loopback address)`;
}

function basicHeader({ username, password }: Credentials): string | undefined {
  if (username === undefined && password === undefined) return undefined;
  return `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`;
}

const SETTINGS_HINT = 'set FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD';

/**
 * Answers `Basic` challenges with the credentials. `hint` says where credentials are set, for
 * the error when there are none.
 */
export function basicCredentials(registry: string, credentials: Credentials, hint = SETTINGS_HINT): CredentialProvider {
  let challenged = false;
  return {
    hint,
    configured: () => basicHeader(credentials) !== undefined,
    header: () => (challenged ? basicHeader(credentials) : undefined),
    async answer(challenge) {
      if (challenge.scheme !== 'basic') return false;
      if (!basicHeader(credentials)) throw unavailable(`registry ${registry} requires credentials (${hint})`);
      challenged = true;
      return true;
    },
  };
}

/**
 * Answers `Bearer` challenges by fetching a token for the scope from the challenge's realm,
 * authenticated with the credentials when there are any (anonymous tokens otherwise).
 * `timeoutMs` bounds each token request.
 */
export function bearerTokenExchange(
  registry: string,
  credentials: Credentials,
  timeoutMs: number,
  hint = SETTINGS_HINT,
  realmHosts: readonly string[] = [],
): CredentialProvider {
  const tokens = new Map<string, { value: string; expiresAt: number }>();
  const fetchToken = async (params: Record<string, string>, scope: string): Promise<{ value: string; expiresAt: number }> => {
    let url: URL;
    try {
      url = new URL(params.realm!);
    } catch {
      throw unavailable(`registry ${registry} names an invalid token realm "${params.realm}"`);
    }
    if (params.service) url.searchParams.set('service', params.service);
    const wanted = params.scope ?? scope;
    if (wanted) url.searchParams.set('scope', wanted);
    const headers: Record<string, string> = {};
    const basic = basicHeader(credentials);
    const where = `token service ${url.origin}${url.pathname} of registry ${registry}`;
    if (basic) {
      // Credentials go only where they belong; an anonymous token may come from anywhere.
      const refusal = realmRefusal(registry, url, realmHosts);
      if (refusal)
        throw unavailable(
          `registry ${registry} names token realm ${url.origin}${url.pathname}; credentials are not sent there: ${refusal}`,
        );
      headers.authorization = basic;
    }
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      // No redirects: the credentials go to the realm that was checked, nowhere else.
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: basic ? 'error' : 'follow' });
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        if (!basic) throw unavailable(`${where} requires credentials (HTTP ${res.status}), and none are configured (${hint})`);
        throw unavailable(`${where} rejected the credentials (HTTP ${res.status})`);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw unavailable(`${where} answered HTTP ${res.status}`);
      }
      body = JSON.parse(await boundedText(res, MAX_TOKEN_ANSWER_BYTES, where)) as typeof body;
    } catch (err) {
      if (err instanceof ForgeError) throw err;
      throw unavailable(`${where} failed: ${describeFetchError(err, timeoutMs)}`);
    }
    const value = body?.token ?? body?.access_token;
    if (!value) throw unavailable(`${where} answered without a token`);
    const lifetime = typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    // Renew 10 s early so a token does not expire between being picked and being checked.
    return { value, expiresAt: Date.now() + Math.max(lifetime - 10, 1) * 1000 };
  };
  return {
    hint,
    configured: () => basicHeader(credentials) !== undefined,
    header(scope) {
      const token = tokens.get(scope);
      return token && token.expiresAt > Date.now() ? `Bearer ${token.value}` : undefined;
    },
    async answer(challenge, scope) {
      if (challenge.scheme !== 'bearer') return false;
      if (!challenge.params.realm) throw unavailable(`registry ${registry} asks for bearer authentication without a token realm`);
      tokens.set(scope, await fetchToken(challenge.params, scope));
      return true;
    },
  };
}

/** The first provider that answers a challenge; the first header any of them has. */
function firstOf(registry: string, providers: CredentialProvider[], hint: string): CredentialProvider {
  return {
    hint,
    configured: () => providers.some((p) => p.configured()),
    header: (scope) => providers.map((p) => p.header(scope)).find((h) => h !== undefined),
    async answer(challenge, scope) {
      for (const p of providers) if (await p.answer(challenge, scope)) return true;
      throw unavailable(`registry ${registry} asks for unsupported authentication "${challenge.scheme}"`);
    },
  };
}

/** Basic or bearer-token exchange, whichever the registry asks for, with the same credentials. */
export function challengeCredentials(
  registry: string,
  credentials: Credentials,
  timeoutMs: number,
  hint = SETTINGS_HINT,
  realmHosts: readonly string[] = [],
): CredentialProvider {
  return firstOf(
    registry,
    [bearerTokenExchange(registry, credentials, timeoutMs, hint, realmHosts), basicCredentials(registry, credentials, hint)],
    hint,
  );
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
}

/** `https://index.docker.io/v1/`, `http://host:5000`, `host:5000/` → `host:5000` (Docker Hub's legacy key → `docker.io`). */
function normaliseKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0]!;
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The credentials `config.json` in `configDir` holds for `registryHost` (host[:port]); none when the file or the entry is missing. */
export async function dockerConfigEntry(configDir: string, registryHost: string): Promise<Credentials> {
  const file = join(configDir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  const config = parseJsonText(text, file) as DockerConfig;
  const want = normaliseKey(registryHost);
  const entry = Object.entries(config.auths ?? {}).find(([k]) => normaliseKey(k) === want)?.[1];
  if (!entry) return {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new ForgeError('validation_error', `${file}: auths."${want}".auth is not base64 of "user:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { username: entry.username, password: entry.password };
}

/**
 * The Docker client configuration's credentials for `registry` (host[:port]): read from
 * `<configDir>/config.json` at the first challenge, then basic or bearer exchange with them.
 */
export function dockerConfigCredentials(
  registry: string,
  configDir: string,
  timeoutMs: number,
  realmHosts: readonly string[] = [],
): CredentialProvider {
  let inner: Promise<CredentialProvider> | undefined;
  let ready: CredentialProvider | undefined;
  const hint = `add an auths entry for ${registry} to ${join(configDir, 'config.json')}`;
  return {
    hint,
    configured: () => ready?.configured() ?? false,
    header: (scope) => ready?.header(scope),
    async answer(challenge, scope) {
      inner ??= dockerConfigEntry(configDir, registry).then((c) => challengeCredentials(registry, c, timeoutMs, hint, realmHosts));
      ready = await inner;
      return ready.answer(challenge, scope);
    },
  };
}

/** The body as text, read as it streams and refused past `limit` bytes. */
async function boundedText(res: Response, limit: number, where: string): Promise<string> {
  try {
    return (await readBodyCapped(res, limit)).toString('utf8');
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw unavailable(`${where} answered more than ${limit} bytes; expected a small JSON token`);
    throw err;
  }
}
