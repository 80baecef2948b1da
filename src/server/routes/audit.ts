/** The audit log (DESIGN.md §11): read it, and check its hash chain. */
import { Type } from 'typebox';
import { listAudit, verifyAudit } from '../../store/audit.js';
import type { App, AppContext } from '../app.js';
import { authorize } from '../auth.js';
import { ListOf, Paging, errorResponses } from '../schemas.js';

const Entry = Type.Object({
  seq: Type.Integer(), at: Type.String(), actor: Type.String(), action: Type.String(), subject: Type.String(),
  details: Type.Object({}, { additionalProperties: true }), prev_hash: Type.String(), hash: Type.String(),
});

export async function auditRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get('/audit', {
    schema: { hide, tags: ['audit'], summary: 'Audit entries, newest first', querystring: Paging, response: { 200: ListOf(Entry), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    const { limit = 20, offset = 0 } = req.query;
    return { ...(await listAudit(ctx.db, limit, offset)), limit, offset };
  });
  app.get('/audit/verify', {
    schema: { hide, tags: ['audit'], summary: 'Check the hash chain of the audit log',
      response: { 200: Type.Object({ ok: Type.Boolean(), checked: Type.Integer(), first_broken: Type.Optional(Type.Integer()), reason: Type.Optional(Type.String()) }), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    return verifyAudit(ctx.db);
  });
}
