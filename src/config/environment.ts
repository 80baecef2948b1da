/**
 * Reading environment variables, for the settings modules only (src/server/settings.ts,
 * src/cli/settings.ts, src/cmp/settings.ts and the parsers they call): each entry point reads
 * its environment once, at start, and refuses a bad value there, naming the variable, instead
 * of failing later somewhere deep with a NaN.
 */
import { readFileSync } from 'node:fs';
import { ForgeError } from '../core/errors.js';

/** An environment as handed to a settings parser: the process's own at the entry point, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A secret: VAR, or the trimmed content of the file named by VAR_FILE (a mounted Kubernetes Secret). */
export function secretFromEnv(env: Env, name: string): string | undefined {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ForgeError('validation_error', `${name}_FILE names "${file}", which cannot be read: ${(err as Error).message}`, {
      field: `${name}_FILE`,
    });
  }
}

/**
 * A whole number of at least `min` (milliseconds, bytes, counts: the variable's name says
 * which); `fallback` when the variable is unset or empty. Throws validation_error naming the
 * variable for anything else ("abc", "1.5", "-1", "1e400").
 */
export function integerFromEnv(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    const expected =
      max < Number.MAX_SAFE_INTEGER
        ? `an integer from ${min} to ${max}`
        : min === 1
          ? 'a positive integer'
          : min === 0
            ? 'a non-negative integer'
            : `an integer of at least ${min}`;
    throw new ForgeError('validation_error', `${name} is "${env[name]}"; expected ${expected}`, { field: name });
  }
  return n;
}

/** A switch that is on only when the variable is exactly "true" (FORGE_REGISTRY_INSECURE and the like). */
export function switchFromEnv(env: Env, name: string): boolean {
  return env[name] === 'true';
}

/** A trimmed value, or undefined when unset or blank. */
export function textFromEnv(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}
