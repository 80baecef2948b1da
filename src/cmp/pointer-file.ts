/** Reading the pointer file of the Application's source directory: `release.yaml`, parsed by the same code the writer renders with. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { PointerError, parsePointer, type ReleasePointer } from '../core/pointer.js';

export const POINTER_FILE = 'release.yaml';

/** Errors name the file (with the Argo CD source path when known), the field, the value and what was expected. */
export async function readPointerFile(dir: string, label = POINTER_FILE): Promise<ReleasePointer> {
  let text: string;
  try {
    text = await readFile(join(dir, POINTER_FILE), 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ForgeError(
      missing ? 'not_found' : 'validation_error',
      `${label}: ${missing ? `no ${POINTER_FILE} in ${dir}; expected a ReleasePointer written by Forge` : `cannot be read: ${(err as Error).message}`}`,
      { file: label },
    );
  }
  try {
    return parsePointer(text);
  } catch (err) {
    if (err instanceof PointerError) throw new ForgeError('validation_error', `${label}: ${err.message}`, { file: label });
    throw err;
  }
}
