/** GET /doctor: disagreements between the database, the release store and the GitOps repository. */
import { DoctorReport, errorResponses } from '../../contract/index.js';
import { runDoctor } from '../../services/doctor.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';

export async function doctorRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get(
    '/doctor',
    {
      schema: {
        hide,
        tags: ['operations'],
        summary: 'Check that the database, the release store and the GitOps repository agree (operator)',
        response: { 200: DoctorReport, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'admin' });
      return runDoctor(ctx);
    },
  );
}
