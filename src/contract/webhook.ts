/** The webhook delivery log on the wire (operators): deliveries with their attempts; never receiver URLs or secrets. */
import { type Static, Type } from 'typebox';
import { Nullable, Paging } from './common.js';

export const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

/** One attempt to deliver: the receiver's HTTP status, or why there was none. */
export const DeliveryAttempt = Type.Object({
  attempt: Type.Integer(),
  at: Type.String(),
  status_code: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
});
export type DeliveryAttempt = Static<typeof DeliveryAttempt>;

export const WebhookDelivery = Type.Object({
  id: Type.String(),
  receiver: Type.String(),
  event_seq: Type.Integer(),
  event: Type.String(),
  status: DeliveryStatus,
  attempts: Type.Integer(),
  next_attempt_at: Type.String(),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  created_at: Type.String(),
  finished_at: Nullable(Type.String()),
  attempts_log: Type.Array(DeliveryAttempt),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

/** GET /webhooks/deliveries. */
export const DeliveriesQuery = Type.Object({
  ...Paging.properties,
  receiver: Type.Optional(Type.String({ maxLength: 63 })),
  status: Type.Optional(DeliveryStatus),
});
export type DeliveriesQuery = Static<typeof DeliveriesQuery>;
