/**
 * Authentication and authorisation at the HTTP edge: every route but the public ones names
 * the action it performs, and the request's principal must be allowed it (DESIGN.md §10, §11).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { ForgeError } from '../core/errors.js';
import { type Action, describeAction, isAllowed, type Principal } from '../core/permissions.js';
import { auditPermissionRefusal } from '../services/refusals.js';
import type { Db } from '../store/db.js';
import type { Authenticator } from './authenticator.js';
import { type OidcSettings, oidcAuthenticator } from './oidc.js';
import { cachedTokenVerifier, type TokenPolicy } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export type { Authenticator } from './authenticator.js';

export function embeddedAuthenticator(key: Uint8Array, policy?: TokenPolicy): Authenticator {
  return { authenticate: cachedTokenVerifier(key, policy) };
}

/**
 * The server's authenticator: tokens of the configured OIDC issuer go to it, every other token
 * to the embedded key, so embedded tokens keep working beside the company's identity provider.
 */
export function serverAuthenticator(key: Uint8Array, oidc?: OidcSettings, policy?: TokenPolicy): Authenticator {
  const embedded = embeddedAuthenticator(key, policy);
  if (!oidc) return embedded;
  const external = oidcAuthenticator(oidc);
  return {
    authenticate(token) {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        issuer = undefined;
      }
      return issuer === oidc.issuer ? external.authenticate(token) : embedded.authenticate(token);
    },
  };
}

export async function authenticate(auth: Authenticator, req: FastifyRequest): Promise<Principal> {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match)
    throw new ForgeError(
      'authentication_required',
      'this route needs a bearer token (Authorization: Bearer <token>); create one with "forge token create"',
    );
  return auth.authenticate(match[1]);
}

/** The authenticated principal of a request that passed the auth hook. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new ForgeError('authentication_required', 'this route needs a bearer token');
  return req.principal;
}

/** Refuses with 403 unless the request's principal may perform the action. */
export function authorize(req: FastifyRequest, action: Action): Principal {
  const principal = principalOf(req);
  if (!isAllowed(principal, action)) {
    throw new ForgeError('permission_denied', `${principal.subject} may not do this: it needs ${describeAction(action)}`, {
      required: describeAction(action),
      roles: principal.roles,
    });
  }
  return principal;
}

/** `METHOD /path` of a request, as the audit log names a refused route. */
export const routeOf = (req: FastifyRequest) => `${req.method} ${req.url.split('?')[0]}`;

/**
 * An onError hook that records permission refusals (`auth.permission_denied`, subject the
 * route) in the audit log (src/services/refusals.ts). Policy refusals are recorded where the
 * deployment is refused (routes/deployments.ts). A failure to record is logged and does not
 * change the answer.
 */
export function auditRefusals(db: Db) {
  return async (req: FastifyRequest, _reply: FastifyReply, err: Error) => {
    if (!(err instanceof ForgeError) || err.code !== 'permission_denied' || !req.principal) return;
    await auditPermissionRefusal(db, req.principal, routeOf(req), err, (auditErr, action) =>
      req.log.error({ err: auditErr }, `could not record ${action} in the audit log`),
    );
  };
}
