/** Approval routes (DESIGN.md §7, §10): approve, the queue, the state for a release and environment, revoke. */
import { Type } from 'typebox';
import { approvalState, approve, revoke } from '../../services/approve.js';
import { listApprovals } from '../../store/approvals.js';
import type { App, AppContext } from '../app.js';
import { authorize, principalOf } from '../auth.js';
import { ListOf, Nullable, Paging, errorResponses } from '../schemas.js';
import { deployContext, permissionFirst } from './deployments.js';

const tags = ['approvals'];
const Status = Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]);

const Approval = Type.Object({
  id: Type.String({ format: 'uuid' }),
  release_id: Type.String({ format: 'uuid' }),
  release_digest: Type.String(),
  repository: Type.String(),
  project: Type.String(),
  release_number: Type.Integer(),
  environment: Type.String(),
  approver: Type.String(),
  justification: Type.String(),
  approved_at: Type.String(),
  expires_at: Type.String(),
  revoked_at: Nullable(Type.String()),
  revoked_by: Nullable(Type.String()),
  status: Status,
}, { $id: 'Approval' });

export async function approvalRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.addSchema(Approval);

  app.post('/approvals', {
    preValidation: permissionFirst('approve'),
    schema: { hide, tags, summary: 'Approve a release (by its digest) for an environment, with a justification',
      body: Type.Object({
        repository: Type.String({ maxLength: 201 }), project: Type.String({ maxLength: 63 }), release: Type.String({ minLength: 1, maxLength: 256 }),
        environment: Type.String({ maxLength: 63 }), justification: Type.String({ maxLength: 4096 }),
      }, { additionalProperties: false }),
      response: { 201: Approval, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await approve(deployContext(ctx), principalOf(req), req.body)));

  app.get('/approvals', {
    schema: { hide, tags, summary: 'The approvals queue, newest first',
      querystring: Type.Object({ ...Paging.properties, environment: Type.Optional(Type.String({ maxLength: 63 })), status: Type.Optional(Status) }),
      response: { 200: ListOf(Approval), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    const { limit = 20, offset = 0, environment, status } = req.query;
    return { ...(await listApprovals(ctx.db, { environment, status }, limit, offset)), limit, offset };
  });

  app.get('/approvals/:release_uuid/:environment', {
    schema: { hide, tags, summary: 'The approvals of a release for an environment and whether they satisfy its policy',
      params: Type.Object({ release_uuid: Type.String(), environment: Type.String() }),
      response: { 200: Type.Object({ approvals: Type.Array(Approval), satisfied: Type.Boolean(), required: Type.Integer() }), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    return approvalState(deployContext(ctx), req.params.release_uuid, req.params.environment);
  });

  app.post('/approvals/:id/revoke', {
    schema: { hide, tags, summary: 'Revoke an active approval', params: Type.Object({ id: Type.String() }), response: { 200: Approval, ...errorResponses } },
  }, async (req) => revoke(deployContext(ctx), principalOf(req), req.params.id));
}
