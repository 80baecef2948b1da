/**
 * The user's session: a bearer token pasted at log-in, kept in sessionStorage (gone when the
 * tab closes), with the identity the server answered for it (GET /whoami). The roles are
 * shown only; the server checks every request itself.
 */
import type { Whoami } from '../../src/contract/index.js';

const KEY = 'forge.session';

/** Who the server takes the token for (GET /whoami). */
export type Identity = Whoami;
interface Stored {
  token: string;
  identity: Identity;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let notice = '';

function read(): Stored | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return s && typeof s.token === 'string' && s.identity ? s : undefined;
  } catch {
    return undefined;
  }
}

function changed() {
  for (const l of listeners) l();
}

export const session = {
  token: (): string | null => read()?.token ?? null,
  identity: (): Identity | undefined => read()?.identity,
  /** The token as pasted, without a `Bearer ` prefix or spaces; undefined when it cannot be a token. */
  clean(token: string): string | undefined {
    const t = token.trim().replace(/^Bearer\s+/i, '');
    return /^[A-Za-z0-9._~+/=-]+$/.test(t) ? t : undefined;
  },
  logIn(token: string, identity: Identity) {
    sessionStorage.setItem(KEY, JSON.stringify({ token, identity }));
    notice = '';
    changed();
  },
  logOut(message = '') {
    sessionStorage.removeItem(KEY);
    notice = message;
    changed();
  },
  /** The server refused the token (401): back to the log-in form, saying why. */
  expired(message: string) {
    if (!read()) return;
    session.logOut(`You were logged out: ${message}`);
  },
  notice: () => notice,
  subscribe(l: Listener) {
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  },
};
