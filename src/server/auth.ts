/**
 * Authentication and authorisation at the HTTP edge: every route but the public ones names
 * the action it performs, and the request's principal must be allowed it (DESIGN.md §10, §11).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ForgeError } from '../core/errors.js';
import { type Action, type Principal, describeAction, isAllowed } from '../core/permissions.js';
import { verifyToken } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface Authenticator {
  authenticate(bearer: string): Promise<Principal>;
}

export function embeddedAuthenticator(key: Uint8Array): Authenticator {
  return { authenticate: (token) => verifyToken(key, token) };
}

export async function authenticate(auth: Authenticator, req: FastifyRequest): Promise<Principal> {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new ForgeError('authentication_required', 'this route needs a bearer token (Authorization: Bearer <token>); create one with "forge token create"');
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
      required: describeAction(action), roles: principal.roles,
    });
  }
  return principal;
}

export type Reply = FastifyReply;
