/** Runs a command's action: errors go to stderr with exit 1, usage mistakes with exit 2. */
import { ForgeError } from '../core/errors.js';
import { ApiError } from './client.js';
import { UsageError } from './output.js';
import { cliSettings } from './settings.js';

/** FORGE_DEBUG, or false when the settings themselves are what failed. */
function debugging(): boolean {
  try {
    return cliSettings().debug;
  } catch {
    return false;
  }
}

export function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const e = err as Error;
      process.stderr.write(`error: ${e.message}\n`);
      const debug = debugging();
      if (err instanceof ApiError && err.details && debug) {
        process.stderr.write(`${JSON.stringify(err.details, null, 2)}\n`);
      }
      if (!(err instanceof UsageError || err instanceof ApiError || err instanceof ForgeError) && debug) {
        process.stderr.write(`${e.stack}\n`);
      }
      process.exitCode = err instanceof UsageError ? 2 : 1;
    }
  };
}
