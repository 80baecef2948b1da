/** The audit log (DESIGN.md §11): read it, and check its hash chain. */
import { AuditChainCheck, AuditEntry, errorResponses, ListOf, Paging } from '../../contract/index.js';
import { auditPage, checkAuditChain } from '../../services/audit-log.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';

export async function auditRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get(
    '/audit',
    {
      schema: {
        hide,
        tags: ['audit'],
        summary: 'Audit entries, newest first',
        querystring: Paging,
        response: { 200: ListOf(AuditEntry), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return auditPage(ctx, req.query);
    },
  );
  app.get(
    '/audit/verify',
    {
      schema: {
        hide,
        tags: ['audit'],
        summary: 'Check the hash chain of the audit log',
        response: { 200: AuditChainCheck, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return checkAuditChain(ctx);
    },
  );
}
