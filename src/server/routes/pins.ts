/** Pins (DESIGN.md §8): keep auto-deploys away from an environment/project until unpinned. */
import { errorResponses, Pin, PinBody, SlotParams } from '../../contract/index.js';
import { pinProject, unpinProject } from '../../services/pins.js';
import { principalOf } from '../auth.js';
import type { App, AppContext } from '../context.js';
import { callerOf, deployContext, permissionFirst } from './deployments.js';

export async function pinRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.post(
    '/pins',
    {
      preValidation: permissionFirst('deploy'),
      schema: {
        hide,
        tags: ['deployments'],
        summary: 'Pin an environment/project: auto-deploys skip it',
        body: PinBody,
        response: { 201: Pin, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await pinProject(deployContext(ctx), callerOf(req), req.body)),
  );

  app.delete(
    '/pins/:env/:owner/:name/:project',
    {
      schema: {
        hide,
        tags: ['deployments'],
        summary: 'Unpin: auto-deploys resume',
        params: SlotParams,
        response: { 200: Pin, ...errorResponses },
      },
    },
    async (req) => {
      const p = req.params;
      return unpinProject(deployContext(ctx), principalOf(req), {
        repository: `${p.owner}/${p.name}`,
        project: p.project,
        environment: p.env,
      });
    },
  );
}
