/** Deployment routes (DESIGN.md §10): deploy, roll back, the active deployment and the history of an environment/project. */
import type { FastifyRequest } from 'fastify';
import { DeployBody, Deployment, errorResponses, ListOf, Paging, RollbackBody, SlotParams } from '../../contract/index.js';
import { ForgeError } from '../../core/errors.js';
import { isAllowed, type Principal } from '../../core/permissions.js';
import { requestDeployment } from '../../services/deploy.js';
import type { DeployContext } from '../../services/deployment-context.js';
import { activeDeploymentOf, deploymentHistoryOf } from '../../services/deployment-reads.js';
import { type Caller, isEnvironmentName, Permit, requirePermission } from '../../services/permission.js';
import { auditingPolicyRefusal } from '../../services/refusals.js';
import { requestRollback } from '../../services/rollback.js';
import { authorize, principalOf, routeOf } from '../auth.js';
import type { App, AppContext } from '../context.js';

const tags = ['deployments'];

/** The deployment machinery of this server, or a clear error when it was built without one. */
export function deployContext(ctx: AppContext): DeployContext {
  if (!ctx.deploy) throw new ForgeError('internal_error', 'this server has no GitOps repository configured for deployments');
  return ctx.deploy;
}

/** The permits `permissionFirst` granted, per request: the use case takes them instead of checking again. */
const permits = new WeakMap<FastifyRequest, Permit>();

/**
 * Permission before validation (DESIGN.md §7): runs ahead of the body schema, so a caller
 * without the role hears 403 even when its request is also malformed.
 */
export function permissionFirst(kind: 'deploy' | 'approve') {
  return async (req: FastifyRequest) => {
    const principal = principalOf(req);
    const environment = (req.body as { environment?: unknown } | undefined)?.environment;
    if (isEnvironmentName(environment)) permits.set(req, Permit.check(principal, { kind, environment }));
    else if (!hasAnyRole(principal, kind)) requirePermission(principal, { kind, environment: '<environment>' });
  };
}

/** Who calls the use case: the permit `permissionFirst` granted, else the principal (checked by the use case). */
export function callerOf(req: FastifyRequest): Caller {
  return permits.get(req) ?? principalOf(req);
}

function hasAnyRole(p: Principal, kind: 'deploy' | 'approve'): boolean {
  return isAllowed(p, { kind: 'admin' }) || p.roles.some((r) => r.startsWith(kind === 'deploy' ? 'deployer:' : 'approver:'));
}

export async function deploymentRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.addSchema(Deployment);

  app.post(
    '/deployments',
    {
      preValidation: permissionFirst('deploy'),
      schema: {
        hide,
        tags,
        summary: 'Deploy a release to an environment; answers once the pointer commit landed (or failed)',
        body: DeployBody,
        response: { 200: Deployment, 201: Deployment, ...errorResponses },
      },
    },
    async (req, reply) => {
      const principal = principalOf(req);
      const { created, deployment } = await auditingPolicyRefusal(
        ctx.db,
        principal,
        routeOf(req),
        req.body,
        (err, action) => req.log.error({ err }, `could not record ${action} in the audit log`),
        () => requestDeployment(deployContext(ctx), callerOf(req), req.body),
      );
      return reply.status(created ? 201 : 200).send(deployment);
    },
  );

  app.post(
    '/deployments/rollback',
    {
      preValidation: permissionFirst('deploy'),
      schema: {
        hide,
        tags,
        summary: 'Deploy the release active before the current one, and pin the environment/project',
        body: RollbackBody,
        response: { 201: Deployment, ...errorResponses },
      },
    },
    async (req, reply) => {
      const principal = principalOf(req);
      const deployment = await auditingPolicyRefusal(
        ctx.db,
        principal,
        routeOf(req),
        req.body,
        (err, action) => req.log.error({ err }, `could not record ${action} in the audit log`),
        () => requestRollback(deployContext(ctx), callerOf(req), req.body),
      );
      return reply.status(201).send(deployment);
    },
  );

  app.get(
    '/deployments/:env/:owner/:name/:project',
    {
      schema: {
        hide,
        tags,
        summary: 'The active deployment of a project in an environment',
        params: SlotParams,
        response: { 200: Deployment, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return activeDeploymentOf(deployContext(ctx), req.params);
    },
  );

  app.get(
    '/deployments/:env/:owner/:name/:project/history',
    {
      schema: {
        hide,
        tags,
        summary: 'Every deployment of a project to an environment, newest first',
        params: SlotParams,
        querystring: Paging,
        response: { 200: ListOf(Deployment), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      const { limit = 20, offset, cursor } = req.query;
      return deploymentHistoryOf(deployContext(ctx), req.params, limit, offset, cursor);
    },
  );
}
