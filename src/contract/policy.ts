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

/**
 * The release a reference resolved to (issue #12 item 7): every answer about a reference names
 * it the same way, the dry run (POST /policy-checks) and the deployment alike.
 */
export const ResolvedRelease = Type.Object({
  release_number: Type.Integer(),
  /** The commit the release was built from. */
  commit_sha: Type.String(),
  /** Its tag and branch aliases, in the order they were added. */
  aliases: Type.Array(Type.String()),
  canonical_id: Type.String(),
});
export type ResolvedRelease = Static<typeof ResolvedRelease>;

/** POST /policy-checks: whether the deployment would pass, with every check, and which release the reference named. */
export const PolicyResult = Type.Object({ allowed: Type.Boolean(), checks: Type.Array(PolicyCheck), release: ResolvedRelease });
export type PolicyResult = Static<typeof PolicyResult>;
