/** The webhook delivery log (operators): each delivery with its attempts. Receiver URLs and secrets are never shown. */
import { DeliveriesQuery, errorResponses, ListOf, WebhookDelivery } from '../../contract/index.js';
import { webhookDeliveries } from '../../services/webhook-deliveries.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';

export async function webhookRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get(
    '/webhooks/deliveries',
    {
      schema: {
        hide,
        tags: ['webhooks'],
        summary: 'Webhook deliveries and their attempts, newest first (operator)',
        querystring: DeliveriesQuery,
        response: { 200: ListOf(WebhookDelivery), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'admin' });
      return webhookDeliveries(ctx, req.query);
    },
  );
}
