/**
 * One process per embedded data directory: PGlite has no cross-process lock of its own, so a
 * second server on the same directory would corrupt it. The lock file names its holder; a
 * lock whose holder is gone (SIGKILL) is taken over.
 *
 * The data directory is the server's alone (issue 19 item 6): taking the lock sets the
 * process's umask to 077, so every file created from then on — by Forge or by the libraries
 * it uses (PGlite's database files, git clones, OCI layout blobs) — is 0600 and every folder
 * 0700, and brings what an older version left (files 0666, folders 0755) to those modes.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { restrictModes } from '../config/file-modes.js';

interface Holder {
  pid: number;
  host: string;
  started_at: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's umask to 077, and the data directory (created when missing) to files 0600, folders 0700. */
export function restrictDataDir(dataDir: string): void {
  process.umask(0o077);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  restrictModes(dataDir);
}

export function lockDataDir(dataDir: string): () => void {
  restrictDataDir(dataDir);
  const path = join(dataDir, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      const me: Holder = { pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      holder = undefined; // a holder that died while writing: stale
    }
    if (holder && (holder.host !== hostname() || alive(holder.pid))) {
      throw new Error(
        `the data directory ${dataDir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.started_at}); ` +
          'stop that server or choose another --data-dir',
      );
    }
    rmSync(path, { force: true });
  }
  throw new Error(`could not lock the data directory ${dataDir}`);
}
