/** Approval routes (DESIGN.md §7, §10): approve, the queue, the state for a release and environment, revoke. */
import {
  Approval,
  ApprovalContext,
  ApprovalContextQuery,
  ApprovalIdParams,
  ApprovalState,
  ApprovalStateParams,
  ApprovalsQuery,
  ApproveBody,
  errorResponses,
  ListOf,
} from '../../contract/index.js';
import { approvalsQueue } from '../../services/approvals-queue.js';
import { approvalState, approve, previewApproval, revoke } from '../../services/approve.js';
import { authorize, principalOf } from '../auth.js';
import type { App, AppContext } from '../context.js';
import { callerOf, deployContext, permissionFirst } from './deployments.js';

const tags = ['approvals'];

export async function approvalRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.addSchema(Approval);

  app.post(
    '/approvals',
    {
      preValidation: permissionFirst('approve'),
      schema: {
        hide,
        tags,
        summary: 'Approve a release (by its digest) for an environment, with a justification',
        body: ApproveBody,
        response: { 201: Approval, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await approve({ ...deployContext(ctx), store: ctx.store }, callerOf(req), req.body)),
  );

  app.get(
    '/approval-context',
    {
      schema: {
        hide,
        tags,
        summary:
          'What approving a release for an environment approves: number, aliases, triggers, branches, commit, artifacts, the diff against what runs',
        querystring: ApprovalContextQuery,
        response: { 200: ApprovalContext, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return previewApproval({ ...deployContext(ctx), store: ctx.store }, req.query);
    },
  );

  app.get(
    '/approvals',
    {
      schema: {
        hide,
        tags,
        summary: 'The approvals queue, newest first',
        querystring: ApprovalsQuery,
        response: { 200: ListOf(Approval), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return approvalsQueue(ctx, req.query);
    },
  );

  app.get(
    '/approvals/:release_uuid/:environment',
    {
      schema: {
        hide,
        tags,
        summary: 'The approvals of a release for an environment and whether they satisfy its policy',
        params: ApprovalStateParams,
        response: { 200: ApprovalState, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return approvalState(deployContext(ctx), req.params.release_uuid, req.params.environment);
    },
  );

  app.post(
    '/approvals/:id/revoke',
    {
      schema: {
        hide,
        tags,
        summary: 'Revoke an active approval',
        params: ApprovalIdParams,
        response: { 200: Approval, ...errorResponses },
      },
    },
    async (req) => revoke(deployContext(ctx), principalOf(req), req.params.id),
  );
}
