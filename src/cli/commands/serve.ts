import type { Command } from 'commander';
import { loadSettings } from '../../server/settings.js';
import { startServer } from '../../server/start.js';
import { run } from '../run.js';

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
        const server = await startServer(loadSettings(opts));
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
