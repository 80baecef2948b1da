/** Freeze windows and break-glass (issue #16): the schedule, asking to pass a freeze, granting it, and the list. */
import {
  BreakGlass,
  BreakGlassBody,
  BreakGlassGrantBody,
  BreakGlassIdParams,
  BreakGlassQuery,
  errorResponses,
  FreezeWindows,
  FreezeWindowsQuery,
  ListOf,
} from '../../contract/index.js';
import { freezeSchedule, getBreakGlass, grantBreakGlass, listBreakGlass, requestBreakGlass } from '../../services/break-glass.js';
import { authorize, principalOf } from '../auth.js';
import type { App, AppContext } from '../context.js';
import { callerOf, deployContext, permissionFirst } from './deployments.js';

const tags = ['deployments'];

export async function breakGlassRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.addSchema(BreakGlass);

  app.get(
    '/freeze-windows',
    {
      schema: {
        hide,
        tags,
        summary: 'The freeze windows in force (at `at`, default now) and the next occurrence of each, by environment',
        querystring: FreezeWindowsQuery,
        response: { 200: FreezeWindows, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return freezeSchedule(deployContext(ctx), req.query);
    },
  );

  app.post(
    '/break-glass',
    {
      preValidation: permissionFirst('deploy'),
      schema: {
        hide,
        tags,
        summary: 'Ask for one release to pass the freeze of one environment, with a reason',
        body: BreakGlassBody,
        response: { 201: BreakGlass, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await requestBreakGlass(deployContext(ctx), callerOf(req), req.body)),
  );

  app.post(
    '/break-glass/:id/approve',
    {
      schema: {
        hide,
        tags,
        summary: 'Grant a break-glass request (approver of the environment, not the requester), with a justification',
        params: BreakGlassIdParams,
        body: BreakGlassGrantBody,
        response: { 200: BreakGlass, ...errorResponses },
      },
    },
    async (req) => grantBreakGlass(deployContext(ctx), principalOf(req), req.params.id, req.body.justification),
  );

  app.get(
    '/break-glass',
    {
      schema: {
        hide,
        tags,
        summary: 'Break-glass requests and grants, newest first',
        querystring: BreakGlassQuery,
        response: { 200: ListOf(BreakGlass), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return listBreakGlass(ctx, req.query);
    },
  );

  app.get(
    '/break-glass/:id',
    {
      schema: {
        hide,
        tags,
        summary: 'One break-glass request',
        params: BreakGlassIdParams,
        response: { 200: BreakGlass, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return getBreakGlass(ctx, req.params.id);
    },
  );
}
