/**
 * GET /whoami: who the server takes the bearer token for, and the roles it maps to (DESIGN.md §11).
 * POST /tokens/revocations: an operator revokes an embedded token by its id (issue 19 item 5).
 */
import { errorResponses, RevokeTokenRequest, TokenRevocation, Whoami } from '../../contract/index.js';
import { revokeToken } from '../../services/token-revocations.js';
import { authorize, principalOf } from '../auth.js';
import type { App, AppContext } from '../context.js';

export async function whoamiRoutes(app: App, hide: boolean, ctx: AppContext) {
  app.get(
    '/whoami',
    {
      schema: {
        hide,
        tags: ['identity'],
        summary: 'The identity and roles of the bearer token (any authenticated caller, with or without roles)',
        response: { 200: Whoami, ...errorResponses },
      },
    },
    async (req) => {
      const { subject, roles, display, repositories } = principalOf(req);
      return { subject, roles, ...(display ? { display } : {}), ...(repositories?.length ? { repositories } : {}) };
    },
  );
  app.post(
    '/tokens/revocations',
    {
      schema: {
        hide,
        tags: ['identity'],
        summary:
          'Revoke an embedded token by its id (operator): every replica refuses it within 5 s, and its event streams end. 201 new, 200 already revoked',
        body: RevokeTokenRequest,
        response: { 200: TokenRevocation, 201: TokenRevocation, ...errorResponses },
      },
    },
    async (req, reply) => {
      const principal = authorize(req, { kind: 'admin' });
      const { revocation, created } = await revokeToken(ctx, principal.subject, req.body, ctx.settings.tokenMaxLifetimeSeconds);
      return reply.code(created ? 201 : 200).send({
        token_id: revocation.jti,
        revoked_at: revocation.revoked_at,
        revoked_by: revocation.revoked_by,
        reason: revocation.reason,
      });
    },
  );
}
