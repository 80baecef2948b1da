/**
 * One process per embedded data directory: PGlite has no cross-process lock of its own, so a
 * second server on the same directory would corrupt it. The lock file names its holder; a
 * lock whose holder is gone (SIGKILL) is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

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

export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
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
