/**
 * Embedded bearer tokens (DESIGN.md §11): HS256 JWTs signed with a key file that lives in the
 * data directory (or FORGE_TOKEN_KEY_FILE, resolved by the server's and the CLI's settings).
 * Replicas share the file; the first process that needs it creates it, atomically, so two
 * starting together agree on one key.
 */
import { createSecretKey, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { readOrCreateKeyFile } from '../config/key-file.js';
import { parseDuration } from '../core/duration.js';
import { ForgeError } from '../core/errors.js';
import { repositoryProblem } from '../core/identity.js';
import { type Principal, ROLE_PATTERN } from '../core/permissions.js';

const ISSUER = 'forge-embedded';

/** The longest lifetime a token may have when FORGE_TOKEN_MAX_LIFETIME is unset: 90 days. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 90 * 24 * 3600;
/** The longest subject a token may name, in characters. */
export const MAX_SUBJECT_LENGTH = 200;

/**
 * Why `subject` may not name an embedded token's holder, or undefined: it is recorded as the
 * actor of audit entries and commit messages, so no control characters or line breaks (a
 * newline would forge a line), none of Forge's own `forge:` actors (`forge:auto-deploy`), at
 * most MAX_SUBJECT_LENGTH characters, not blank.
 */
export function subjectProblem(subject: string): string | undefined {
  if (subject.trim() === '') return 'is empty: name who the token is for (e.g. ci@example.com)';
  // " ci" looks like "ci" in the audit log and in approvals, where the four-eyes rule compares subjects
  if (subject.trim() !== subject) return `starts or ends with white space: write ${JSON.stringify(subject.trim())}`;
  if (subject.length > MAX_SUBJECT_LENGTH) return `is ${subject.length} characters long: at most ${MAX_SUBJECT_LENGTH} are allowed`;
  // C0/C1 controls, DEL, line and paragraph separators, bidirectional overrides and isolates.
  if (/[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(subject))
    return 'contains a control character or line break: it is recorded as the actor of audit entries and commit messages';
  // Invisible characters (zero-width space and joiners, soft hyphen, byte order mark): two subjects that look alike must be the same subject.
  if (/\p{Cf}/u.test(subject))
    return 'contains an invisible formatting character (such as a zero-width space): it would look like another subject';
  // Full-width letters, ligatures, non-breaking spaces: each has one plain form (NFKC), and only that form is accepted.
  const plain = subject.normalize('NFKC');
  if (plain !== subject) return `is not written in its plain Unicode form: write ${JSON.stringify(plain)}, which it looks like`;
  if (/^forge:/i.test(plain.trim())) return 'starts with "forge:", which is reserved for Forge\'s own actors (forge:auto-deploy)';
  return undefined;
}

/** What a server accepts beyond a valid signature (issue 19 item 5). */
export interface TokenPolicy {
  /** Tokens whose lifetime (exp - iat) or remaining lifetime exceeds this are refused (FORGE_TOKEN_MAX_LIFETIME). */
  maxLifetimeSeconds: number;
  /**
   * Tokens from before token ids (no `jti`) are accepted until this instant
   * (FORGE_LEGACY_TOKENS_UNTIL), with a warning in the log; unset = accepted, with the warning.
   */
  legacyUntil?: Date;
  /** The installation's revocation list; absent = none (the CLI, unit tests). */
  revocations?: { isRevoked(jti: string): Promise<boolean> };
  /** Where the legacy-token warning goes (rate limited: at most once a minute per subject). */
  warn?: (message: string) => void;
}

const DEFAULT_POLICY: TokenPolicy = { maxLifetimeSeconds: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS };

/** A lifetime in seconds as people write it: 90d, 36h, 45m, 30s. */
export function formatLifetime(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

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
  opts: { repositories?: string[]; maxLifetimeSeconds?: number } = {},
) {
  const subjectIssue = subjectProblem(subject);
  if (subjectIssue) throw new ForgeError('validation_error', `--subject ${JSON.stringify(subject)} ${subjectIssue}`, { field: 'subject' });
  const max = opts.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  if (ttlSeconds > max)
    throw new ForgeError(
      'validation_error',
      `--ttl ${formatLifetime(ttlSeconds)} is longer than the longest token lifetime this installation allows, ${formatLifetime(max)} (FORGE_TOKEN_MAX_LIFETIME): create a shorter-lived token and renew it`,
      { field: 'ttl' },
    );
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
  const id = randomUUID();
  const token = await new SignJWT(repositories.length ? { roles, repositories } : { roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setSubject(subject)
    .setJti(id)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(key);
  return {
    token,
    id,
    subject,
    roles,
    ...(repositories.length ? { repositories } : {}),
    expires_at: new Date((now + ttlSeconds) * 1000).toISOString(),
  };
}

function refused(why: string): ForgeError {
  return new ForgeError('authentication_required', `${why}: create a new one with "forge token create"`);
}

/** The token's id (`jti`) without verifying it, or undefined: for streams that re-check their token. */
export function tokenId(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti?: unknown };
    return typeof payload.jti === 'string' ? payload.jti : undefined;
  } catch {
    return undefined;
  }
}

interface Verified {
  principal: Principal;
  /** Until when the verdict holds, ms since the epoch (the token's exp, or the legacy cut-off). */
  until: number;
  jti?: string;
  legacy: boolean;
}

async function verifyToken(key: Uint8Array | KeyObject, token: string, policy: TokenPolicy): Promise<Verified> {
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] }));
  } catch (err) {
    throw refused(err instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid for this server');
  }
  const subject = typeof payload.sub === 'string' ? payload.sub : '';
  const subjectIssue = subjectProblem(subject);
  if (subjectIssue) throw refused(`the token's subject ${subjectIssue}`);
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
  const repositories = Array.isArray(payload.repositories) ? payload.repositories.filter((r): r is string => typeof r === 'string') : [];
  const principal: Principal = { subject, roles, ...(repositories.length ? { repositories } : {}) };
  const now = Date.now();
  const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  const jti = typeof payload.jti === 'string' && payload.jti ? payload.jti : undefined;
  if (jti === undefined) {
    // Issued before tokens had ids (issue 19 item 5): accepted, with a warning, until the
    // operator's cut-off; with no cut-off set they keep working (an upgrade breaks no pipeline).
    const until = policy.legacyUntil?.getTime() ?? Number.POSITIVE_INFINITY;
    if (now >= until) {
      throw refused(
        `the token was issued before tokens had an id and a bounded lifetime; such tokens were accepted until ${policy.legacyUntil!.toISOString()} (FORGE_LEGACY_TOKENS_UNTIL)`,
      );
    }
    return { principal, until: Math.min(until, exp ?? until), legacy: true };
  }
  if (exp === undefined) throw refused('the token has no expiry: every token needs a bounded lifetime');
  const max = policy.maxLifetimeSeconds * 1000;
  const iat = typeof payload.iat === 'number' ? payload.iat * 1000 : undefined;
  if (iat === undefined || exp - iat > max || exp - now > max) {
    throw refused(
      `the token lives longer than this installation allows (at most ${formatLifetime(policy.maxLifetimeSeconds)}, FORGE_TOKEN_MAX_LIFETIME)`,
    );
  }
  return { principal, until: exp, jti, legacy: false };
}

/**
 * A verifier that remembers tokens it has verified until they expire: verification is a pure
 * function of the token and the key, so the memory decides nothing the token did not. CI and
 * the dashboard send the same token on every request; this saves an HMAC and a key import each.
 * Revocation is not remembered: it is asked on every call (the list itself is refreshed every
 * few seconds, src/services/token-revocations.ts).
 */
export function cachedTokenVerifier(
  rawKey: Uint8Array,
  policy: TokenPolicy = DEFAULT_POLICY,
  maxEntries = 10_000,
): (token: string) => Promise<Principal> {
  const key = createSecretKey(rawKey);
  const seen = new Map<string, Verified>();
  const warned = new Map<string, number>();
  return async (token) => {
    let verified = seen.get(token);
    if (!verified || Date.now() >= verified.until) {
      seen.delete(token);
      verified = await verifyToken(key, token, policy);
      if (seen.size >= maxEntries) seen.clear();
      seen.set(token, verified);
    }
    if (verified.jti && (await policy.revocations?.isRevoked(verified.jti))) {
      throw refused(`the token ${verified.jti} has been revoked`);
    }
    if (verified.legacy && policy.warn) {
      const subject = verified.principal.subject;
      const last = warned.get(subject) ?? 0;
      if (Date.now() - last >= 60_000) {
        if (warned.size >= maxEntries) warned.clear();
        warned.set(subject, Date.now());
        policy.warn(
          `a token of ${JSON.stringify(subject)} issued before tokens had an id (no jti or exp) was accepted; ${policy.legacyUntil ? `such tokens are refused from ${policy.legacyUntil.toISOString()}` : 'set FORGE_LEGACY_TOKENS_UNTIL to the date from which such tokens are refused'} (FORGE_LEGACY_TOKENS_UNTIL): replace it with "forge token create"`,
        );
      }
    }
    return verified.principal;
  };
}
