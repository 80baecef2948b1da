/** POST /policy-checks: the policy's every check for a would-be deployment, without deploying (DESIGN.md §7). */
import { errorResponses, PolicyCheckBody, PolicyResult } from '../../contract/index.js';
import { checkPolicy } from '../../services/policy-check.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';
import { deployContext } from './deployments.js';

export async function policyCheckRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.post(
    '/policy-checks',
    {
      schema: {
        hide,
        tags: ['deployments'],
        summary: 'Dry run: would this deployment pass the environment policy, and why not',
        body: PolicyCheckBody,
        response: { 200: PolicyResult, ...errorResponses },
      },
    },
    async (req) => checkPolicy(deployContext(ctx), authorize(req, { kind: 'read' }), req.body),
  );
}
