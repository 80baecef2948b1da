/** Secrets from the environment: VAR, or the trimmed content of the file named by VAR_FILE (a mounted Kubernetes Secret). */
import { readFileSync } from 'node:fs';
import { ForgeError } from '../core/errors.js';

export function secretFromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ForgeError('validation_error', `${name}_FILE names "${file}", which cannot be read: ${(err as Error).message}`, { field: `${name}_FILE` });
  }
}
