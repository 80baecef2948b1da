/**
 * `forge serve`: the API server. The server stack is loaded only when this command runs (the
 * other commands start without it). Before the slow part (database, migrations, registry) the
 * settings and platform config are parsed and the port is tried, so a bad config or a port in
 * use is a one-line explanation with a hint within a second, not a stack trace after the start.
 */
import { createServer } from 'node:net';
import type { Command } from 'commander';
import { run } from '../run.js';

/** A start-up problem the operator fixes: printed as `error: <message>` with `hint: <hint>` on the next line (exit 1). */
export class ServeError extends Error {
  constructor(message: string, hint: string) {
    super(`${message}\nhint: ${hint}`);
  }
}

/**
 * Resolves when `host:port` can be bound right now (the probe socket is closed again); rejects with a
 * ServeError naming the address when it is in use or not ours to bind. Port 0 always resolves.
 */
export function probePort(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (err.code === 'EADDRINUSE')
        reject(
          new ServeError(
            `port ${port} on ${host} is already in use (another forge serve, or another program)`,
            `stop the program listening on ${where} (\`ss -ltnp | grep :${port}\` shows it), or pick another port with --port or FORGE_PORT`,
          ),
        );
      else if (err.code === 'EACCES')
        reject(new ServeError(`not allowed to listen on ${where}`, 'ports below 1024 need privileges: use --port 8080 or FORGE_PORT'));
      else if (err.code === 'EADDRNOTAVAIL')
        reject(new ServeError(`${host} is not an address of this machine`, 'use --host 127.0.0.1, --host 0.0.0.0 or FORGE_HOST'));
      else reject(err);
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** SQLSTATEs and socket errors of a PostgreSQL server that cannot be reached or refuses us, and what to do. */
const DATABASE_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there: start PostgreSQL, or fix the host and port',
  ENOTFOUND: 'the host name does not resolve: fix the host',
  EAI_AGAIN: 'the host name could not be resolved now: check DNS, or fix the host',
  ETIMEDOUT: 'the connection timed out: check the host, the port and any firewall',
  EHOSTUNREACH: 'the host cannot be reached: check the host and the network',
  '28P01': 'the password was refused: fix the user or password',
  '28000': 'PostgreSQL refused this user from this host (pg_hba.conf): fix the user, or allow it',
  '3D000': 'the database does not exist: create it (createdb) or fix its name',
};

/** A ServeError naming the database (without its password) and what to fix, for a connection failure; undefined for other errors. */
export function databaseProblem(err: NodeJS.ErrnoException, url: string): ServeError | undefined {
  const hint = DATABASE_PROBLEMS[String(err.code)];
  if (!hint) return undefined;
  const u = new URL(url);
  const where = `${u.hostname}:${u.port || 5432}${u.pathname}`;
  return new ServeError(
    `cannot use the PostgreSQL database at ${where} (FORGE_DATABASE_URL): ${err.code}`,
    `${hint}; unset FORGE_DATABASE_URL to use the embedded database`,
  );
}

export function registerServe(program: Command) {
  program
    .command('serve')
    .description('run the API server (embedded PGlite and OCI layout under the data dir unless configured otherwise)')
    .option('--config <file>', 'platform configuration (environments and policies)')
    .option('--host <host>', 'address to listen on (env FORGE_HOST)')
    .option('--port <port>', 'port to listen on (env FORGE_PORT)')
    .option('--data-dir <dir>', 'embedded data directory (env FORGE_DATA_DIR)')
    .action(
      run(async (opts: { config?: string; host?: string; port?: string; dataDir?: string }) => {
        const { loadSettings } = await import('../../server/settings.js');
        let settings: ReturnType<typeof loadSettings>;
        try {
          settings = loadSettings(opts);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const file = opts.config ?? '$FORGE_CONFIG';
          if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR')
            throw new ServeError(
              `cannot read the platform config ${file}: ${e.code}`,
              'pass --config with a readable forge.yaml, or omit it for the default environments',
            );
          throw new ServeError(
            e.message.split('\n')[0],
            e.message.includes('port')
              ? 'pass --port (or FORGE_PORT) as a number from 0 to 65535'
              : `fix the setting named above (README.md's Configuration section lists every FORGE_* variable; the platform config is documented in docs/configuration.md)${e.message.includes('\n') ? `\n${e.message.split('\n').slice(1).join('\n')}` : ''}`,
          );
        }
        await probePort(settings.host, settings.port);
        const { startServer } = await import('../../server/start.js');
        const server = await startServer(settings).catch((err: NodeJS.ErrnoException) => {
          throw settings.databaseUrl ? (databaseProblem(err, settings.databaseUrl) ?? err) : err;
        });
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          server.stop().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      }),
    );
}
