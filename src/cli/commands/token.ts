import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseFormat, print, UsageError } from '../output.js';
import { run } from '../run.js';
import { cliSettings } from '../settings.js';

export function registerToken(program: Command) {
  const token = program.command('token').description('bearer tokens for the embedded server');
  token
    .command('create')
    .description("sign a token with the data dir's key (never opens the database, so it works while the server runs)")
    .requiredOption('--subject <name>', 'who the token is for (recorded as the actor)')
    .requiredOption(
      '--role <role>',
      'service-account, developer, operator, integration:argocd, deployer:<env> or approver:<env> (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--repository <owner/name>',
      'service accounts: a repository it may release (repeatable); none = any repository',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--ttl <duration>', 'lifetime, e.g. 30m, 24h, 7d', '24h')
    .option('--data-dir <dir>', 'embedded data directory (env FORGE_DATA_DIR, default .forge-data)')
    .option('-o, --output <format>', 'table (the token alone), json or yaml', 'table')
    .action(
      run(async (opts: { subject: string; role: string[]; repository: string[]; ttl: string; dataDir?: string; output: string }) => {
        const format = parseFormat(opts.output);
        if (opts.role.length === 0)
          throw new UsageError('forge token create needs at least one --role (a token without a role may do nothing)');
        const settings = cliSettings();
        // Loaded here, not at start: the token library is for this command only.
        const { loadOrCreateTokenKey, signToken, tokenKeyPath, tokenLifetimeSeconds } = await import('../../server/tokens.js');
        const keyFile = settings.tokenKeyFile ?? tokenKeyPath(resolve(opts.dataDir ?? settings.dataDir));
        const fresh = !existsSync(keyFile);
        const key = loadOrCreateTokenKey(keyFile);
        if (fresh) {
          // The usual mistake: a token signed with a new key that no running server knows.
          process.stderr.write(
            `warning: created a new token key at ${keyFile}; a server accepts this token only if it uses the same key (forge serve --data-dir ${resolve(opts.dataDir ?? settings.dataDir)}, or FORGE_TOKEN_KEY_FILE)\n`,
          );
        }
        const created = await signToken(key, opts.subject, opts.role, tokenLifetimeSeconds(opts.ttl), { repositories: opts.repository });
        print(created, format, () => created.token);
      }),
    );
}
