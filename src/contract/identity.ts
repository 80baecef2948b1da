/** GET /whoami on the wire (DESIGN.md §11): who the server takes the bearer token for. */
import { type Static, Type } from 'typebox';

export const Whoami = Type.Object({ subject: Type.String(), roles: Type.Array(Type.String()) });
export type Whoami = Static<typeof Whoami>;
