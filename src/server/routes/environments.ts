/** GET /environments: each environment's policy and what runs there, per project (DESIGN.md §10). */
import { Environment, EnvironmentsQuery, errorResponses, ListOf } from '../../contract/index.js';
import { environmentsMatrix } from '../../services/environments-matrix.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';
import { deployContext } from './deployments.js';

export async function environmentRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get(
    '/environments',
    {
      schema: {
        hide,
        tags: ['deployments'],
        summary: 'Environments with their policies and the active release of each project',
        querystring: EnvironmentsQuery,
        response: { 200: ListOf(Environment), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return environmentsMatrix(deployContext(ctx), req.query);
    },
  );
}
