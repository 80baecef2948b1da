/**
 * Reading the pointer file of the Application's source directory: `release.yaml`, parsed by the
 * same code the writer renders with, and bound to where it sits (issue 19 item 4): a pointer is
 * only valid in `<env>/apps/<owner>/<name>/<project>/` for its own environment, repository and
 * project, so a pointer copied into another Application's folder renders nothing.
 *
 * Files of the source directory (the pointer, `env.yaml`) are read only when they are regular
 * files, not through a symbolic link (a link to a secret must never reach an error message),
 * never blocking on a FIFO, and only up to a size bound.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { PointerError, parsePointer, pointerPath, type ReleasePointer } from '../core/pointer.js';

export const POINTER_FILE = 'release.yaml';
/** A pointer is a few hundred bytes; anything near this is not one. */
const MAX_POINTER_BYTES = 64 * 1024;

/**
 * The text of `name` in `dir`, or undefined when it does not exist. Refuses (validation_error
 * naming `label`, never the content or a link's target) a symbolic link, anything but a
 * regular file, and a file larger than `maxBytes`.
 */
export async function readSourceFile(dir: string, name: string, label: string, maxBytes: number): Promise<string | undefined> {
  const refuse = (why: string) => new ForgeError('validation_error', `${label}: ${why}`, { file: label });
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(join(dir, name), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK')
      throw refuse(`is a symbolic link; the plugin reads only regular files in the Application's source directory`);
    throw refuse(`cannot be read (${code ?? 'error'})`);
  }
  try {
    const s = await fh.stat();
    if (s.isSymbolicLink()) throw refuse(`is a symbolic link; the plugin reads only regular files in the Application's source directory`);
    if (!s.isFile()) throw refuse('is not a regular file');
    if (s.size > maxBytes) throw refuse(`is ${s.size} bytes; expected at most ${maxBytes}`);
    const bytes = await fh.readFile();
    if (bytes.length > maxBytes) throw refuse(`is more than ${maxBytes} bytes`);
    return bytes.toString('utf8');
  } catch (err) {
    if (err instanceof ForgeError) throw err;
    throw refuse(`cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await fh.close();
  }
}

/**
 * Errors name the file (with the Argo CD source path when known), the field, the value and what
 * was expected. `places` are the paths the folder is known by (the directory the plugin runs in,
 * Argo CD's source path): the pointer must belong in each.
 */
export async function readPointerFile(dir: string, label = POINTER_FILE, places: string[] = [dir]): Promise<ReleasePointer> {
  const text = await readSourceFile(dir, POINTER_FILE, label, MAX_POINTER_BYTES);
  if (text === undefined)
    throw new ForgeError('not_found', `${label}: no ${POINTER_FILE} in ${dir}; expected a ReleasePointer written by Forge`, {
      file: label,
    });
  let pointer: ReleasePointer;
  try {
    pointer = parsePointer(text);
  } catch (err) {
    if (err instanceof PointerError) throw new ForgeError('validation_error', `${label}: ${err.message}`, { file: label });
    throw err;
  }
  for (const place of places) bindToPlace(pointer, place, label);
  return pointer;
}

/** Refuses a pointer whose environment, repository or project is not the one its folder (`…/<env>/apps/<owner>/<name>/<project>`) is for. */
export function bindToPlace(pointer: ReleasePointer, place: string, label: string): void {
  const segments = place.split(/[/\\]+/).filter((s) => s !== '' && s !== '.');
  const tail = segments.slice(-5);
  const expected = pointerPath(pointer).replace(/\/release\.yaml$/, '');
  if (tail.join('/') !== expected) {
    throw new ForgeError(
      'validation_error',
      `${label}: this pointer is for ${pointer.repository}/${pointer.project} in ${pointer.environment}, so it belongs in ${expected}/, ` +
        `but it sits in ${tail.length === 5 && tail[1] === 'apps' ? `${tail.join('/')}/` : `a folder that is not <env>/apps/<owner>/<name>/<project> (${place})`}`,
      { file: label, expected: `${expected}/${POINTER_FILE}` },
    );
  }
}
