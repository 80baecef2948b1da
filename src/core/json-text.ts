/**
 * Parsing JSON a user configured (webhook receivers, the OIDC role map, a Docker config): the
 * engine's own syntax error quotes the text around the fault, and that text may be a password
 * or a webhook secret (issue #19 item 1). The error here says where the fault is, never what
 * is there. Pure.
 */
import { ForgeError } from './errors.js';

/**
 * `text` parsed as JSON; a 400 `validation_error` naming `what` and the line and column of the
 * fault (when the engine gives its position) otherwise. The text is never quoted.
 */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    let where = '';
    if (at) {
      const before = text.slice(0, Number(at[1]));
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
    } else if (/end of JSON input/.test((err as Error).message)) where = ' (it ends too early)';
    throw new ForgeError(
      'validation_error',
      `${what} is not valid JSON${where}; expected a JSON document (the text is not shown: it may hold secrets)`,
    );
  }
}
