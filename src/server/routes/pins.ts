/** Pins (DESIGN.md §8): keep auto-deploys away from an environment/project until unpinned. */
import { Type } from 'typebox';
import { pinProject, unpinProject } from '../../services/deploy.js';
import type { App, AppContext } from '../app.js';
import { authorize, principalOf } from '../auth.js';
import { Nullable, errorResponses } from '../schemas.js';
import { SlotParams, deployContext, permissionFirst } from './deployments.js';

const Pin = Type.Object({
  environment: Type.String(), repository: Type.String(), project: Type.String(), pinned_by: Type.String(), pinned_at: Type.String(),
  reason: Nullable(Type.String()), deployment_id: Nullable(Type.String()),
});

export async function pinRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.post('/pins', {
    preValidation: permissionFirst('deploy'),
    schema: { hide, tags: ['deployments'], summary: 'Pin an environment/project: auto-deploys skip it',
      body: Type.Object({ repository: Type.String({ maxLength: 201 }), project: Type.String({ maxLength: 63 }), environment: Type.String({ maxLength: 63 }),
        reason: Type.Optional(Type.String({ maxLength: 4096 })) }, { additionalProperties: false }),
      response: { 201: Pin, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await pinProject(deployContext(ctx), principalOf(req), req.body)));

  app.delete('/pins/:env/:owner/:name/:project', {
    schema: { hide, tags: ['deployments'], summary: 'Unpin: auto-deploys resume', params: SlotParams, response: { 200: Pin, ...errorResponses } },
  }, async (req) => {
    const principal = authorize(req, { kind: 'deploy', environment: req.params.env });
    const p = req.params;
    return unpinProject(deployContext(ctx), principal, { repository: `${p.owner}/${p.name}`, project: p.project, environment: p.env });
  });
}
