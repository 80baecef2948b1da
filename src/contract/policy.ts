/** The policy's checks as the API reports them (DESIGN.md §7): enforcement, dry run and refused deployments. */
import { type Static, Type } from 'typebox';

/**
 * One rule's verdict: what it requires, what the deployment has, and why it failed. `name` is
 * the rule's (src/core/policy); `required` and `actual` are the rule's own JSON values.
 */
export const PolicyCheck = Type.Object({
  name: Type.String(),
  required: Type.Unknown(),
  actual: Type.Unknown(),
  ok: Type.Boolean(),
  reason: Type.Optional(Type.String()),
});
export type PolicyCheck = Static<typeof PolicyCheck>;

/** POST /policy-checks: whether the deployment would pass, with every check. */
export const PolicyResult = Type.Object({ allowed: Type.Boolean(), checks: Type.Array(PolicyCheck) });
export type PolicyResult = Static<typeof PolicyResult>;
