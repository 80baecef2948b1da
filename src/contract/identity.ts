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
