/**
 * Private file modes (issue 19 item 6): what lives in Forge's data directory is its own.
 * Used by the data-directory lock at start (src/server/data-dir-lock.ts) and by the embedded
 * database, whose library (PGlite) sets its files' modes itself, ignoring the umask.
 */
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Takes every group and other permission off the files under `dir` (a file keeps its owner's
 * bits: 0666 becomes 0600, an executable git hook 0700, a read-only git object 0400) and makes
 * every folder 0700. Symbolic links are left alone, never followed. Walks without recursion.
 * Returns how many entries were changed.
 */
export function restrictModes(dir: string): number {
  let changed = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink()) continue;
    const want = stat.isDirectory() ? 0o700 : stat.mode & 0o700;
    if ((stat.mode & 0o777) !== want) {
      try {
        chmodSync(path, want);
        changed++;
      } catch (err) {
        // A file removed meanwhile (the database's temporary files) needs nothing.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (stat.isDirectory()) for (const name of readdirSync(path)) stack.push(join(path, name));
  }
  return changed;
}
