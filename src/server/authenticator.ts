/**
 * What turns a bearer token into a principal (DESIGN.md §11). Its own module so that the
 * authenticators (embedded tokens in src/server/tokens.ts and auth.ts, OIDC in oidc.ts) and the
 * HTTP edge that combines them (auth.ts) share the type without importing each other.
 */
import type { Principal } from '../core/permissions.js';

export interface Authenticator {
  /** The token's principal; throws ForgeError authentication_required when the token is not accepted. */
  authenticate(bearer: string): Promise<Principal>;
}
