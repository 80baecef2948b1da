/** Pins on the wire (DESIGN.md §8): an environment/project that auto-deploys leave alone until unpinned. */
import { type Static, Type } from 'typebox';
import { Nullable } from './common.js';

export const Pin = Type.Object({
  environment: Type.String(),
  repository: Type.String(),
  project: Type.String(),
  pinned_by: Type.String(),
  pinned_at: Type.String(),
  reason: Nullable(Type.String()),
  /** The rollback that pinned it; null for a pin set by hand. */
  deployment_id: Nullable(Type.String()),
});
export type Pin = Static<typeof Pin>;

/** POST /pins. */
export const PinBody = Type.Object(
  {
    repository: Type.String({ maxLength: 201 }),
    project: Type.String({ maxLength: 63 }),
    environment: Type.String({ maxLength: 63 }),
    reason: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type PinRequest = Static<typeof PinBody>;
