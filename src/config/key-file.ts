/**
 * Key files that the first process to need them creates: written to a temp file and linked
 * into place, so replicas starting together agree on one key (a loser's link fails with
 * EEXIST and it reads the winner's).
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The file's content; when the file is missing it is created (mode 0600) with `make()`. */
export function readOrCreateKeyFile(path: string, make: () => string): { content: string; created: boolean } {
  try {
    return { content: readFileSync(path, 'utf8'), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // a folder made here holds keys: only its owner may list or enter it
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, make(), { mode: 0o600 });
  let created = true;
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false;
  } finally {
    rmSync(tmp, { force: true });
  }
  return { content: readFileSync(path, 'utf8'), created };
}
