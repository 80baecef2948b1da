/** Runs a command's action: errors go to stderr with exit 1, usage mistakes with exit 2. */
import { ForgeError } from '../core/errors.js';
import { ApiError } from './client.js';
import { UsageError } from './output.js';

export function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const e = err as Error;
      process.stderr.write(`error: ${e.message}\n`);
      if (err instanceof ApiError && err.details && process.env.FORGE_DEBUG !== undefined) {
        process.stderr.write(`${JSON.stringify(err.details, null, 2)}\n`);
      }
      if (!(err instanceof UsageError || err instanceof ApiError || err instanceof ForgeError) && process.env.FORGE_DEBUG) {
        process.stderr.write(`${e.stack}\n`);
      }
      process.exitCode = err instanceof UsageError ? 2 : 1;
    }
  };
}
