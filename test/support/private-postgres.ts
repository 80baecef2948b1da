/**
 * A PostgreSQL server of our own (Debian's binaries, a temp data dir, a free port), for tests
 * that restart the database: restarting the machine's shared server would disturb every other
 * test running at the same time.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const BIN = join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().at(-1)!, 'bin');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise((ok) => srv.close(ok));
  return port;
}

export async function startPrivatePostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'forge-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  // initdb and postgres refuse to run as root: they run as the postgres user (tests run as root here)
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], {
    stdio: 'ignore',
  });
  const ctlArgs = (action: string) => [
    '-u',
    'postgres',
    '--',
    join(BIN, 'pg_ctl'),
    '-D',
    data,
    '-w',
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    action,
  ];
  const ctl = (action: string) => execFileSync('runuser', ctlArgs(action), { stdio: 'ignore' });
  ctl('start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    /** Restarts without blocking this process (in-flight requests see their connections end). */
    restart: () => promisify(execFile)('runuser', ctlArgs('restart')),
    stop: () => ctl('stop'),
    destroy() {
      try {
        ctl('stop');
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
