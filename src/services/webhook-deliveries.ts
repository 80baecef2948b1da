/** GET /webhooks/deliveries as a read model (operators): deliveries with their attempts, newest first. */
import type { DeliveriesQuery, List, WebhookDelivery } from '../contract/index.js';
import { windowOf } from '../core/cursor.js';
import type { Db } from '../store/db.js';
import { listDeliveries } from '../store/webhooks.js';

/** A page of the deliveries, optionally of one receiver and one status (`limit` after `cursor`, else after `offset`; 400 for a cursor this list did not give). Receiver URLs and secrets are never part of it. */
export async function webhookDeliveries(ctx: { db: Db }, query: DeliveriesQuery): Promise<List<WebhookDelivery>> {
  const { receiver, status } = query;
  const { limit, offset, after } = windowOf(query, ['timestamp', 'integer', 'uuid']);
  return { ...(await listDeliveries(ctx.db, { receiver, status }, limit, offset, after)), limit, offset };
}
