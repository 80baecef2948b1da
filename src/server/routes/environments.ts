/** GET /environments: each environment's policy and what runs there, per project (DESIGN.md §10). */
import { Type } from 'typebox';
import * as deployments from '../../store/deployments.js';
import { listPins } from '../../store/pins.js';
import * as releases from '../../store/releases.js';
import type { App, AppContext } from '../app.js';
import { authorize } from '../auth.js';
import { ListOf, Paging, errorResponses } from '../schemas.js';
import { deployContext } from './deployments.js';

const Running = Type.Object({
  repository: Type.String(), project: Type.String(), release_id: Type.String(), release_number: Type.Integer(), commit_sha: Type.String(),
  aliases: Type.Array(Type.Object({ alias: Type.String(), alias_type: Type.String() })), deployment_id: Type.String(),
  kind: Type.String(), deployed_by: Type.String(), deployed_at: Type.String(), gitops_commit_sha: Type.Union([Type.String(), Type.Null()]),
  pinned: Type.Boolean(),
});

const Environment = Type.Object({
  name: Type.String(),
  promotion_policy: Type.Object({
    allowed_triggers: Type.Array(Type.String()), allowed_branches: Type.Array(Type.String()), auto_deploy: Type.Boolean(),
    requires_approval: Type.Boolean(),
    approvals: Type.Object({ required: Type.Integer(), expires_after_seconds: Type.Integer(), allow_self_approval: Type.Boolean() }),
  }),
  deployments: Type.Array(Running),
});

export async function environmentRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get('/environments', {
    schema: { hide, tags: ['deployments'], summary: 'Environments with their policies and the active release of each project',
      querystring: Type.Object({ ...Paging.properties, repository: Type.Optional(Type.String({ maxLength: 201 })), project: Type.Optional(Type.String({ maxLength: 63 })) }),
      response: { 200: ListOf(Environment), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'read' });
    const { limit = 20, offset = 0, repository, project } = req.query;
    const platform = deployContext(ctx).platform;
    const active = await deployments.activeDeployments(ctx.db, { repository: repository?.toLowerCase(), project });
    const pinned = new Set((await listPins(ctx.db)).map((p) => `${p.environment}/${p.repository}/${p.project}`));
    const byId = new Map<string, releases.Release>();
    for (const id of new Set(active.map((d) => d.release_id))) byId.set(id, (await releases.findById(ctx.db, id))!);
    const items = platform.environments.slice(offset, offset + limit).map((e) => ({
      name: e.name,
      promotion_policy: {
        allowed_triggers: e.policy.allowedTriggers, allowed_branches: e.policy.allowedBranches, auto_deploy: e.policy.autoDeploy,
        requires_approval: e.policy.requiresApproval,
        approvals: { required: e.policy.approvals.required, expires_after_seconds: e.policy.approvals.expiresAfterMs / 1000, allow_self_approval: e.policy.approvals.allowSelfApproval },
      },
      deployments: active.filter((d) => d.environment === e.name).map((d) => {
        const r = byId.get(d.release_id)!;
        return {
          repository: d.repository, project: d.project, release_id: d.release_id, release_number: d.release_number, commit_sha: r.commit_sha,
          aliases: r.aliases, deployment_id: d.id, kind: d.kind, deployed_by: d.deployed_by, deployed_at: d.deployed_at,
          gitops_commit_sha: d.gitops_commit_sha, pinned: pinned.has(`${e.name}/${d.repository}/${d.project}`),
        };
      }),
    }));
    return { items, total: platform.environments.length, limit, offset };
  });
}
