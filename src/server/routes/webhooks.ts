/** The webhook delivery log (operators): each delivery with its attempts. Receiver URLs and secrets are never shown. */
import { Type } from 'typebox';
import { listDeliveries } from '../../store/webhooks.js';
import type { App, AppContext } from '../app.js';
import { authorize } from '../auth.js';
import { ListOf, Nullable, Paging, errorResponses } from '../schemas.js';

const Delivery = Type.Object({
  id: Type.String(), receiver: Type.String(), event_seq: Type.Integer(), event: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(), next_attempt_at: Type.String(), last_status_code: Nullable(Type.Integer()), last_error: Nullable(Type.String()),
  created_at: Type.String(), finished_at: Nullable(Type.String()),
  attempts_log: Type.Array(Type.Object({ attempt: Type.Integer(), at: Type.String(), status_code: Nullable(Type.Integer()), error: Nullable(Type.String()) })),
});

export async function webhookRoutes(app: App, ctx: AppContext, hide: boolean) {
  app.get('/webhooks/deliveries', {
    schema: { hide, tags: ['webhooks'], summary: 'Webhook deliveries and their attempts, newest first (operator)',
      querystring: Type.Object({
        ...Paging.properties, receiver: Type.Optional(Type.String({ maxLength: 63 })),
        status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])),
      }),
      response: { 200: ListOf(Delivery), ...errorResponses } },
  }, async (req) => {
    authorize(req, { kind: 'admin' });
    const { limit = 20, offset = 0, receiver, status } = req.query;
    return { ...(await listDeliveries(ctx.db, { receiver, status }, limit, offset)), limit, offset };
  });
}
