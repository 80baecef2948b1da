/** GET /whoami on the wire (DESIGN.md §11): who the server takes the bearer token for. */
import { type Static, Type } from 'typebox';

export const Whoami = Type.Object({
  /** The stable identity every "who" rule compares: an embedded token's subject, `<issuer>#<sub>` for an OIDC person, `client:<id>` for an OIDC client. */
  subject: Type.String(),
  roles: Type.Array(Type.String()),
  /** The name shown for an OIDC person (their email): display only (issue #13 item 2). */
  display: Type.Optional(Type.String()),
  /** A pipeline identity's repositories (issue #13 item 7); absent = any. */
  repositories: Type.Optional(Type.Array(Type.String())),
});
export type Whoami = Static<typeof Whoami>;

/** POST /tokens/revocations (operator; issue 19 item 5): revoke an embedded token by its id. */
export const RevokeTokenRequest = Type.Object(
  {
    /** The token's id (`jti`), as `forge token create` printed it. */
    token_id: Type.String({ minLength: 1, maxLength: 128 }),
    /** Why, for the audit log. */
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type RevokeTokenRequest = Static<typeof RevokeTokenRequest>;

/** A revocation: in force on every replica within 5 s of `revoked_at`. */
export const TokenRevocation = Type.Object({
  token_id: Type.String(),
  revoked_at: Type.String(),
  revoked_by: Type.String(),
  reason: Type.String(),
});
export type TokenRevocation = Static<typeof TokenRevocation>;
