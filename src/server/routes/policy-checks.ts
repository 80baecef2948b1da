/** POST /policy-checks: the policy's every check for a would-be deployment, without deploying (DESIGN.md §7). */
import { Type } from 'typebox';
import { checkPolicy } from '../../services/deploy.js';
import type { App, AppContext } from '../app.js';
import { authorize } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { DeployBody, PolicyCheck, deployContext } from './deployments.js';

export async function policyCheckRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.post('/policy-checks', {
    schema: { hide, tags: ['deployments'], summary: 'Dry run: would this deployment pass the environment policy, and why not', body: DeployBody,
      response: { 200: Type.Object({ allowed: Type.Boolean(), checks: Type.Array(PolicyCheck) }), ...errorResponses } },
  }, async (req) => checkPolicy(deployContext(ctx), authorize(req, { kind: 'read' }), req.body));
}
