/** GET /doctor: disagreements between the database, the release store and the GitOps repository; POST /doctor/repair adopts git's truth. */
import { DoctorRepair, DoctorReport, errorResponses } from '../../contract/index.js';
import { repairDoctor, runDoctor } from '../../services/doctor.js';
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
  app.post(
    '/doctor/repair',
    {
      schema: {
        hide,
        tags: ['operations'],
        summary: 'Make the database follow the GitOps branch tip wherever they disagree, audited; then check again (operator)',
        response: { 200: DoctorRepair, ...errorResponses },
      },
    },
    async (req) => {
      const principal = authorize(req, { kind: 'admin' });
      return repairDoctor(ctx, principal.subject);
    },
  );
}
