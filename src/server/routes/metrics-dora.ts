/** GET /metrics/dora (issue 15): deployment frequency, lead time, change failure rate and time to restore. */
import { DoraMetrics, DoraQuery, errorResponses } from '../../contract/index.js';
import { doraMetrics } from '../../services/dora-metrics.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';

export async function doraRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get(
    '/metrics/dora',
    {
      schema: {
        hide,
        tags: ['metrics'],
        summary: 'DORA metrics per environment/repository/project over a time range (default: the last 30 days)',
        querystring: DoraQuery,
        response: { 200: DoraMetrics, ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return doraMetrics(ctx, req.query);
    },
  );
}
