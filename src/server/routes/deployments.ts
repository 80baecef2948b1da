/** Deployment routes (DESIGN.md §10): deploy, roll back, the active deployment and the history of an environment/project. */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ForgeError } from '../../core/errors.js';
import { isAllowed, type Principal } from '../../core/permissions.js';
import { type DeployContext, checkTarget, requestDeployment, requestRollback, requirePermission } from '../../services/deploy.js';
import * as deployments from '../../store/deployments.js';
import type { App, AppContext } from '../app.js';
import { authorize, principalOf } from '../auth.js';
import { ListOf, Nullable, Paging, errorResponses } from '../schemas.js';

const tags = ['deployments'];

export const PolicyCheck = Type.Object({
  name: Type.String(), required: Type.Unknown(), actual: Type.Unknown(), ok: Type.Boolean(), reason: Type.Optional(Type.String()),
});

export const Deployment = Type.Object({
  id: Type.String({ format: 'uuid' }),
  release_id: Type.String({ format: 'uuid' }),
  release_number: Type.Integer(),
  repository: Type.String(),
  project: Type.String(),
  environment: Type.String(),
  kind: Type.Union([Type.Literal('deploy'), Type.Literal('rollback'), Type.Literal('auto')]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('active'), Type.Literal('superseded'), Type.Literal('failed')]),
  deployed_by: Type.String(),
  deployed_at: Type.String(),
  reason: Nullable(Type.String()),
  gitops_commit_sha: Nullable(Type.String()),
  approval_ids: Type.Array(Type.String()),
  approved_by: Type.Array(Type.String()),
  previous_release_number: Nullable(Type.Integer()),
  finished_at: Nullable(Type.String()),
  error: Type.Optional(Type.String()),
  policy_checks: Type.Optional(Type.Array(PolicyCheck)),
}, { $id: 'Deployment' });

export const DeployBody = Type.Object({
  repository: Type.String({ maxLength: 201 }),
  project: Type.String({ maxLength: 63 }),
  environment: Type.String({ maxLength: 63 }),
  release: Type.String({ minLength: 1, maxLength: 256 }),
  reason: Type.Optional(Type.String({ maxLength: 4096 })),
}, { additionalProperties: false });

const RollbackBody = Type.Object({
  repository: Type.String({ maxLength: 201 }),
  project: Type.String({ maxLength: 63 }),
  environment: Type.String({ maxLength: 63 }),
  reason: Type.Optional(Type.String({ maxLength: 4096 })),
}, { additionalProperties: false });

export const SlotParams = Type.Object({ env: Type.String(), owner: Type.String(), name: Type.String(), project: Type.String() });

/** The deployment machinery of this server, or a clear error when it was built without one. */
export function deployContext(ctx: AppContext): DeployContext {
  if (!ctx.deploy) throw new ForgeError('internal_error', 'this server has no GitOps repository configured for deployments');
  return ctx.deploy;
}

/**
 * Permission before validation (DESIGN.md §7): runs ahead of the body schema, so a caller
 * without the role hears 403 even when its request is also malformed.
 */
export function permissionFirst(kind: 'deploy' | 'approve') {
  return async (req: FastifyRequest) => {
    const principal = principalOf(req);
    const environment = (req.body as { environment?: unknown } | undefined)?.environment;
    if (typeof environment === 'string') requirePermission(principal, { kind, environment });
    else if (!hasAnyRole(principal, kind)) requirePermission(principal, { kind, environment: '<environment>' });
  };
}

function hasAnyRole(p: Principal, kind: 'deploy' | 'approve'): boolean {
  return isAllowed(p, { kind: 'admin' }) || p.roles.some((r) => r.startsWith(kind === 'deploy' ? 'deployer:' : 'approver:'));
}

export function slotOf(ctx: AppContext, p: { env: string; owner: string; name: string; project: string }) {
  const { repository, project, environment } = checkTarget(deployContext(ctx), { repository: `${p.owner}/${p.name}`, project: p.project, environment: p.env });
  return { repository, project, environment: environment.name };
}

export async function deploymentRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.addSchema(Deployment);

  app.post('/deployments', {
    preValidation: permissionFirst('deploy'),
    schema: { hide, tags, summary: 'Deploy a release to an environment; answers once the pointer commit landed (or failed)', body: DeployBody,
      response: { 200: Deployment, 201: Deployment, ...errorResponses } },
  }, async (req, reply) => {
    const { created, deployment } = await requestDeployment(deployContext(ctx), principalOf(req), req.body);
    return reply.status(created ? 201 : 200).send(deployment);
  });

  app.post('/deployments/rollback', {
    preValidation: permissionFirst('deploy'),
    schema: { hide, tags, summary: 'Deploy the release active before the current one, and pin the environment/project', body: RollbackBody,
      response: { 201: Deployment, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await requestRollback(deployContext(ctx), principalOf(req), req.body)));

  app.get('/deployments/:env/:owner/:name/:project', {
    schema: { hide, tags, summary: 'The active deployment of a project in an environment', params: SlotParams,
      response: { 200: Deployment, ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    const s = slotOf(ctx, req.params);
    const active = await deployments.activeDeployment(ctx.db, s.environment, s.repository, s.project);
    if (!active) throw new ForgeError('not_found', `no release of ${s.repository}/${s.project} is active in ${s.environment}`);
    return active;
  });

  app.get('/deployments/:env/:owner/:name/:project/history', {
    schema: { hide, tags, summary: 'Every deployment of a project to an environment, newest first', params: SlotParams, querystring: Paging,
      response: { 200: ListOf(Deployment), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    const s = slotOf(ctx, req.params);
    const { limit = 20, offset = 0 } = req.query;
    return { ...(await deployments.deploymentHistory(ctx.db, s.environment, s.repository, s.project, limit, offset)), limit, offset };
  });
}
