/** GET /doctor: disagreements between the database, the release store and the GitOps repository. */
import { Type } from 'typebox';
import { runDoctor } from '../../services/doctor.js';
import type { App, AppContext } from '../app.js';
import { authorize } from '../auth.js';
import { errorResponses } from '../schemas.js';

const Report = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Object({ releases: Type.Integer(), active_deployments: Type.Integer(), pointer_files: Type.Integer(), audit_entries: Type.Integer() }),
  findings: Type.Array(Type.Object({ check: Type.String(), subject: Type.String(), problem: Type.String() })),
});

export async function doctorRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get('/doctor', {
    schema: { hide, tags: ['operations'], summary: 'Check that the database, the release store and the GitOps repository agree (operator)',
      response: { 200: Report, ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'admin' });
    return runDoctor(ctx);
  });
}
