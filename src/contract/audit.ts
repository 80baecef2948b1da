/** The audit log on the wire (DESIGN.md §11): entries, the hash-chain check, and the event stream. */
import { type Static, Type } from 'typebox';
import { AnyObject } from './common.js';

/** One entry of the hash chain (src/core/audit-chain.ts); `at` is an ISO time with milliseconds. */
export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  subject: Type.String(),
  details: AnyObject,
  prev_hash: Type.String(),
  hash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntry>;

/** GET /audit/verify: how much of the chain is intact, and where it breaks. */
export const AuditChainCheck = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  first_broken: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String()),
  /**
   * The chain checked against the heads anchored in GitOps commits (trailer Forge-Audit-Head,
   * issue 13 item 8): how many anchors were compared and the newest one. Absent when the server
   * has no GitOps repository.
   */
  anchors: Type.Optional(
    Type.Object({
      checked: Type.Integer(),
      newest: Type.Optional(Type.Object({ seq: Type.Integer(), hash: Type.String(), commit: Type.String() })),
    }),
  ),
});
export type AuditChainCheck = Static<typeof AuditChainCheck>;

/** GET /events: EventSource cannot send headers, so the bearer token may come as `?access_token=`. */
export const EventsQuery = Type.Object({ access_token: Type.Optional(Type.String()) });

/** The audit actions' first word that the event stream sends, e.g. `deployment.active` → `deployment`. */
export const EVENT_KINDS = ['release', 'deployment', 'approval', 'pin', 'train'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
