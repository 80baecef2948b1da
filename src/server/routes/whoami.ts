/** GET /whoami: who the server takes the bearer token for, and the roles it maps to (DESIGN.md §11). */
import { errorResponses, Whoami } from '../../contract/index.js';
import { principalOf } from '../auth.js';
import type { App } from '../context.js';

export async function whoamiRoutes(app: App, hide: boolean) {
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
}
