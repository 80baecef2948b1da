/**
 * Embedded bearer tokens (DESIGN.md §11): HS256 JWTs signed with a key file that lives in the
 * data directory (or FORGE_TOKEN_KEY_FILE, resolved by the server's and the CLI's settings).
 * Replicas share the file; the first process that needs it creates it, atomically, so two
 * starting together agree on one key.
 */
import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { readOrCreateKeyFile } from '../config/key-file.js';
import { parseDuration } from '../core/duration.js';
import { ForgeError } from '../core/errors.js';
import { repositoryProblem } from '../core/identity.js';
import { type Principal, ROLE_PATTERN } from '../core/permissions.js';

const ISSUER = 'forge-embedded';

/** The key file's default place: `token-key` in the data directory. */
export function tokenKeyPath(dataDir: string): string {
  return join(dataDir, 'token-key');
}

/** Reads the key, creating it (mode 0600) when missing. */
export function loadOrCreateTokenKey(path: string): Uint8Array {
  const { content } = readOrCreateKeyFile(path, () => `${randomBytes(32).toString('base64url')}\n`);
  return Buffer.from(content.trim(), 'base64url');
}

/** A token lifetime (`30m`, `24h`, `7d`, `1h30m`) in whole seconds; throws validation_error for anything else. */
export function tokenLifetimeSeconds(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new ForgeError('validation_error', `invalid duration "${text}": expected a number followed by s, m, h or d (e.g. 24h)`);
  return Math.floor(ms / 1000);
}

/**
 * Signs an embedded token. `repositories` (issue #13 item 7) binds a service account to the
 * `owner/name` repositories it may release (claim `repositories`); none = any. Throws
 * validation_error for an unknown role, a malformed repository, or repositories without the
 * service-account role.
 */
export async function signToken(
  key: Uint8Array,
  subject: string,
  roles: string[],
  ttlSeconds: number,
  opts: { repositories?: string[] } = {},
) {
  const repositories = [...new Set((opts.repositories ?? []).map((r) => r.toLowerCase()))].sort();
  for (const r of repositories) {
    const problem = repositoryProblem(r);
    if (problem) throw new ForgeError('validation_error', `--repository "${r}": ${problem}`);
  }
  if (repositories.length && !roles.includes('service-account')) {
    throw new ForgeError('validation_error', '--repository binds a pipeline identity: it needs --role service-account');
  }
  for (const role of roles) {
    if (!ROLE_PATTERN.test(role)) {
      throw new ForgeError(
        'validation_error',
        `unknown role "${role}": expected service-account, developer, operator, integration:argocd, deployer:<env> or approver:<env>`,
      );
    }
  }
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT(repositories.length ? { roles, repositories } : { roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setSubject(subject)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(key);
  return {
    token,
    subject,
    roles,
    ...(repositories.length ? { repositories } : {}),
    expires_at: new Date((now + ttlSeconds) * 1000).toISOString(),
  };
}

async function verifyWithExpiry(key: Uint8Array | KeyObject, token: string): Promise<{ principal: Principal; expiresAt: number }> {
  try {
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    const repositories = Array.isArray(payload.repositories) ? payload.repositories.filter((r): r is string => typeof r === 'string') : [];
    return {
      principal: { subject: String(payload.sub ?? ''), roles, ...(repositories.length ? { repositories } : {}) },
      expiresAt: (payload.exp ?? 0) * 1000,
    };
  } catch (err) {
    const why = err instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid for this server';
    throw new ForgeError('authentication_required', `${why}: create a new one with "forge token create"`);
  }
}

/**
 * A verifier that remembers tokens it has verified until they expire: verification is a pure
 * function of the token and the key, so the memory decides nothing the token did not. CI and
 * the dashboard send the same token on every request; this saves an HMAC and a key import each.
 */
export function cachedTokenVerifier(rawKey: Uint8Array, maxEntries = 10_000): (token: string) => Promise<Principal> {
  const key = createSecretKey(rawKey);
  const seen = new Map<string, { principal: Principal; expiresAt: number }>();
  return async (token) => {
    const hit = seen.get(token);
    if (hit && Date.now() < hit.expiresAt) return hit.principal;
    seen.delete(token);
    const verified = await verifyWithExpiry(key, token);
    if (seen.size >= maxEntries) seen.clear();
    seen.set(token, verified);
    return verified.principal;
  };
}
