/**
 * Production identity (DESIGN.md §11): bearer JWTs from the company's OIDC issuer, verified
 * against its JWKS (issuer, audience, algorithms, clock skew), roles mapped from claims by
 * configuration (src/core/role-mapping.ts). Configured from the environment:
 *
 *   FORGE_OIDC_ISSUER          the issuer URL; unset = embedded tokens only
 *   FORGE_OIDC_AUDIENCE        required with an issuer: accepted `aud` values, comma-separated
 *   FORGE_OIDC_ALGORITHMS      accepted signature algorithms (default RS256,ES256,PS256,EdDSA)
 *   FORGE_OIDC_CLOCK_SKEW      tolerated clock difference for exp/nbf/iat (default 60s)
 *   FORGE_OIDC_JWKS_URI        the key set (default: jwks_uri from the issuer's discovery document)
 *   FORGE_OIDC_ROLE_MAP        the claim → role mapping as JSON, or FORGE_OIDC_ROLE_MAP_FILE
 *
 * `oidcSettingsFromEnv` parses them from the environment the server's settings module
 * (src/server/settings.ts) hands over; nothing here reads the environment itself.
 *
 * The key set is cached in memory (jose refetches it when a token names an unknown key); that
 * is a cache only, every replica reaches the same answer.
 */
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { Env } from '../config/environment.js';
import { parseDuration } from '../core/duration.js';
import { ForgeError } from '../core/errors.js';
import { parseRoleMapping, principalFromClaims, type RoleMapping } from '../core/role-mapping.js';
import type { Authenticator } from './authenticator.js';

export interface OidcSettings {
  issuer: string;
  audience: string[];
  algorithms: string[];
  clockToleranceSeconds: number;
  jwksUri?: string;
  mapping: RoleMapping;
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The OIDC settings, or undefined without FORGE_OIDC_ISSUER; throws validation_error naming the variable at fault. */
export function oidcSettingsFromEnv(env: Env): OidcSettings | undefined {
  const issuer = env.FORGE_OIDC_ISSUER?.trim();
  if (!issuer) return undefined;
  const audience = list(env.FORGE_OIDC_AUDIENCE);
  if (!audience.length) {
    throw new ForgeError(
      'validation_error',
      'FORGE_OIDC_AUDIENCE is not set: with FORGE_OIDC_ISSUER the server needs the audience its tokens carry (e.g. forge-api), or it would accept tokens issued for other applications',
    );
  }
  const mapText = env.FORGE_OIDC_ROLE_MAP ?? (env.FORGE_OIDC_ROLE_MAP_FILE ? readFileSync(env.FORGE_OIDC_ROLE_MAP_FILE, 'utf8') : '{}');
  return {
    issuer,
    audience,
    algorithms: env.FORGE_OIDC_ALGORITHMS ? list(env.FORGE_OIDC_ALGORITHMS) : ['RS256', 'ES256', 'PS256', 'EdDSA'],
    clockToleranceSeconds: env.FORGE_OIDC_CLOCK_SKEW ? clockSkewSeconds(env.FORGE_OIDC_CLOCK_SKEW) : 60,
    jwksUri: env.FORGE_OIDC_JWKS_URI || undefined,
    mapping: parseRoleMapping(mapText),
  };
}

function clockSkewSeconds(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new ForgeError('validation_error', `FORGE_OIDC_CLOCK_SKEW is "${text}"; expected a duration such as 60s or 2m`, {
      field: 'FORGE_OIDC_CLOCK_SKEW',
    });
  return Math.floor(ms / 1000);
}

async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
  if (doc.issuer !== issuer) throw new Error(`${url} names the issuer ${JSON.stringify(doc.issuer)}, not ${issuer}`);
  if (!doc.jwks_uri) throw new Error(`${url} has no jwks_uri`);
  return doc.jwks_uri;
}

function refusal(err: unknown, s: OidcSettings): ForgeError {
  const again = 'log in again with "forge login"';
  if (err instanceof ForgeError) return err;
  if (err instanceof joseErrors.JWTExpired) return new ForgeError('authentication_required', `the token has expired: ${again}`);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const expected: Record<string, string> = { iss: s.issuer, aud: s.audience.join(' or ') };
    return new ForgeError(
      'authentication_required',
      `the token's ${err.claim} claim is not accepted (${err.reason})${expected[err.claim] ? `: expected ${expected[err.claim]}` : ''}`,
    );
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return new ForgeError(
      'authentication_required',
      `the token is signed with an algorithm this server does not accept: expected ${s.algorithms.join(', ')}`,
    );
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new ForgeError('authentication_required', `the token is not signed by a key of ${s.issuer}`);
  }
  if (err instanceof joseErrors.JOSEError) return new ForgeError('authentication_required', `the token is not a valid JWT: ${again}`);
  return new ForgeError(
    'authentication_required',
    `the token could not be checked: the keys of ${s.issuer} could not be fetched (${(err as Error).message})`,
  );
}

export function oidcAuthenticator(s: OidcSettings): Authenticator {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = () => {
    keys ??= (async () => createRemoteJWKSet(new URL(s.jwksUri ?? (await discoverJwksUri(s.issuer)))))();
    keys.catch(() => {
      keys = undefined;
    }); // a failed discovery is retried by the next request
    return keys;
  };
  return {
    async authenticate(token) {
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, await keySet(), {
          issuer: s.issuer,
          audience: s.audience,
          algorithms: s.algorithms,
          clockTolerance: s.clockToleranceSeconds,
        }));
      } catch (err) {
        throw refusal(err, s);
      }
      return principalFromClaims(s.mapping, claims as Record<string, unknown>);
    },
  };
}
