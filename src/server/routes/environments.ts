/**
 * GET /environments: each environment's policy and what runs there, per project (DESIGN.md §10).
 * GET /overview: per project and environment, what runs there and the latest release's verdict (issue #18).
 * GET /environments/orphans: pointers and deployments of environments the config no longer has;
 * POST /environments/:env/rename and /retire move or delete them (operator, issue #12 item 4).
 */
import {
  EnvironmentChange,
  EnvironmentParams,
  EnvironmentRenameBody,
  EnvironmentRetireBody,
  EnvironmentsPage,
  EnvironmentsQuery,
  errorResponses,
  OrphanedSlots,
  OverviewPage,
  OverviewQuery,
} from '../../contract/index.js';
import { listOrphans, renameEnvironment, retireEnvironment } from '../../services/environment-lifecycle.js';
import { environmentsMatrix } from '../../services/environments-matrix.js';
import { overview } from '../../services/overview.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';
import { deployContext } from './deployments.js';

/** The JSON of pages of GET /environments, kept as long as the page object is (the read model's cache holds it). */
const serialised = new WeakMap<object, string>();

export async function environmentRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get(
    '/environments',
    {
      schema: {
        hide,
        tags: ['deployments'],
        summary: 'Environments with their policies and the active release of each project',
        querystring: EnvironmentsQuery,
        response: { 200: EnvironmentsPage, ...errorResponses },
      },
    },
    async (req, reply) => {
      authorize(req, { kind: 'read' });
      const page = await environmentsMatrix(deployContext(ctx), req.query);
      // A page answered again unchanged (environments-matrix.ts) is serialised once, by this route's schema.
      let text = serialised.get(page);
      if (text === undefined) serialised.set(page, (text = String(reply.serialize(page))));
      // A string with a JSON content type is sent as it is (Fastify serialises only objects).
      return reply.type('application/json; charset=utf-8').send(text as unknown as typeof page);
    },
  );

  app.get(
    '/overview',
    {
      schema: {
        hide,
        tags: ['deployments'],
        summary:
          "Per project and environment: what runs there and what the latest release may do there for the caller (the policy's dry run), paged with a cursor",
        querystring: OverviewQuery,
        response: { 200: OverviewPage, ...errorResponses },
      },
    },
    async (req) => overview(deployContext(ctx), authorize(req, { kind: 'read' }), req.query),
  );

  app.get(
    '/environments/orphans',
    {
      schema: {
        hide,
        tags: ['deployments'],
        summary: 'Pointers and active deployments of environments the platform config no longer has (renamed or removed)',
        response: { 200: OrphanedSlots, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return { items: await listOrphans(deployContext(ctx)) };
    },
  );

  app.post(
    '/environments/:env/rename',
    {
      schema: {
        hide,
        tags: ['operations'],
        summary:
          'Move the pointers of an environment renamed in the platform config to its new name in one GitOps commit, and its deployment records with them (operator)',
        params: EnvironmentParams,
        body: EnvironmentRenameBody,
        response: { 200: EnvironmentChange, ...errorResponses },
      },
    },
    async (req) => {
      const principal = authorize(req, { kind: 'admin' });
      return renameEnvironment(deployContext(ctx), principal.subject, req.params.env, req.body.new_name, req.body.reason);
    },
  );

  app.post(
    '/environments/:env/retire',
    {
      schema: {
        hide,
        tags: ['operations'],
        summary:
          'Delete the pointers of an environment removed from the platform config in one GitOps commit; its active deployments end retired (operator)',
        params: EnvironmentParams,
        body: EnvironmentRetireBody,
        response: { 200: EnvironmentChange, ...errorResponses },
      },
    },
    async (req) => {
      const principal = authorize(req, { kind: 'admin' });
      return retireEnvironment(deployContext(ctx), principal.subject, req.params.env, req.body?.reason);
    },
  );
}
