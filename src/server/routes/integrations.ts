/**
 * POST /integrations/argocd (issue 15): an Argo CD `Application` as its JSON body — what the
 * shipped notifications template (deploy/argocd/notifications-forge.yaml) renders with
 * `{{toJson .app}}`. Only the `integration:argocd` role may post (checked when the request
 * arrives, before its body is read); the Application is processed before the answer: 200 with
 * what it matched, or that it matched nothing (another repository than FORGE_ARGOCD_REPO_URL,
 * another path, an unknown project); 400 when the body is not an Application.
 */
import { AnyObject, ArgocdIngestResult, errorResponses } from '../../contract/index.js';
import { ingestApplication, requireDeployments } from '../../services/argocd-ingest.js';
import { requirePermission } from '../../services/permission.js';
import { principalOf } from '../auth.js';
import type { App, AppContext } from '../context.js';

/** Largest Application accepted, bytes: Argo CD's own objects (status.resources of a big app) stay well under it. */
export const ARGOCD_BODY_LIMIT = 8 * 1024 * 1024;

export async function integrationRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.post(
    '/integrations/argocd',
    {
      bodyLimit: ARGOCD_BODY_LIMIT,
      // Before the body is read: any other role hears 403 whatever it sends.
      onRequest: async (req) => requirePermission(principalOf(req), { kind: 'integration:argocd' }),
      schema: {
        hide,
        tags: ['integrations'],
        summary: 'Report an Argo CD Application (notifications webhook; role integration:argocd only)',
        body: AnyObject,
        response: { 200: ArgocdIngestResult, ...errorResponses },
      },
    },
    // The events' actor is the posting token's subject (`<issuer>#<sub>` for OIDC), not its role.
    async (req) =>
      ingestApplication(requireDeployments(ctx.deploy), req.body, 'notification', {
        repoUrl: ctx.settings.argocd.repoUrl,
        actor: principalOf(req).subject,
      }),
  );
}
