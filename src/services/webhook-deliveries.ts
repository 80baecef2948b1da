/** GET /webhooks/deliveries as a read model (operators): deliveries with their attempts, newest first. */
import type { DeliveriesQuery, List, WebhookDelivery } from '../contract/index.js';
import type { Db } from '../store/db.js';
import { listDeliveries } from '../store/webhooks.js';

/** A page of the deliveries, optionally of one receiver and one status. Receiver URLs and secrets are never part of it. */
export async function webhookDeliveries(ctx: { db: Db }, query: DeliveriesQuery): Promise<List<WebhookDelivery>> {
  const { limit = 20, offset = 0, receiver, status } = query;
  return { ...(await listDeliveries(ctx.db, { receiver, status }, limit, offset)), limit, offset };
}
