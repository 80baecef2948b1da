/**
 * `forge cmp discover` (Argo CD's `discover.find.command` contract, DESIGN.md §9): in the
 * Application's source directory, a valid pointer makes it print `release.yaml` and exit 0;
 * anything else prints nothing on stdout and exits non-zero (the reason goes to stderr).
 */
import { POINTER_FILE, readPointerFile } from './pointer-file.js';

export async function discover(dir: string, out: (text: string) => void): Promise<void> {
  await readPointerFile(dir);
  out(`${POINTER_FILE}\n`);
}
