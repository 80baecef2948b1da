import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { TokenRevocation } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, UsageError } from '../output.js';
import { run } from '../run.js';
import { cliSettings } from '../settings.js';

export function registerToken(program: Command) {
  const token = program.command('token').description('bearer tokens for the embedded server');
  token
    .command('create')
    .description("sign a token with the data dir's key (never opens the database, so it works while the server runs)")
    .requiredOption(
      '--subject <name>',
      'who the token is for (recorded as the actor; no control characters, not "forge:…", at most 200 characters)',
    )
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
    .option('--ttl <duration>', 'lifetime, e.g. 30m, 24h, 7d; at most FORGE_TOKEN_MAX_LIFETIME (default 90d)', '24h')
    .option('--data-dir <dir>', 'embedded data directory (env FORGE_DATA_DIR, default .forge-data)')
    .option('-o, --output <format>', 'table (the token alone), json or yaml (with its id, for forge token revoke)', 'table')
    .action(
      run(async (opts: { subject: string; role: string[]; repository: string[]; ttl: string; dataDir?: string; output: string }) => {
        const format = parseFormat(opts.output);
        if (opts.role.length === 0)
          throw new UsageError('forge token create needs at least one --role (a token without a role may do nothing)');
        const settings = cliSettings();
        // Loaded here, not at start: the token library is for this command only.
        const { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, loadOrCreateTokenKey, signToken, subjectProblem, tokenKeyPath, tokenLifetimeSeconds } =
          await import('../../server/tokens.js');
        const problem = subjectProblem(opts.subject);
        if (problem) throw new UsageError(`--subject ${JSON.stringify(opts.subject)} ${problem}`);
        let maxLifetimeSeconds = DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
        if (settings.tokenMaxLifetime) {
          try {
            maxLifetimeSeconds = tokenLifetimeSeconds(settings.tokenMaxLifetime);
          } catch {
            throw new UsageError(`FORGE_TOKEN_MAX_LIFETIME is "${settings.tokenMaxLifetime}"; expected a duration such as 30d or 12h`);
          }
        }
        const ttl = tokenLifetimeSeconds(opts.ttl);
        if (ttl < 1) throw new UsageError(`--ttl ${opts.ttl}: a token must live at least 1s`);
        const keyFile = settings.tokenKeyFile ?? tokenKeyPath(resolve(opts.dataDir ?? settings.dataDir));
        const fresh = !existsSync(keyFile);
        const created = await signToken(
          fresh ? new Uint8Array(32) : loadOrCreateTokenKey(keyFile), // checked with a throwaway key first: no key file for a refused token
          opts.subject,
          opts.role,
          ttl,
          { repositories: opts.repository, maxLifetimeSeconds },
        ).then(async (checked) => {
          if (!fresh) return checked;
          const key = loadOrCreateTokenKey(keyFile);
          // The usual mistake: a token signed with a new key that no running server knows.
          process.stderr.write(
            `warning: created a new token key at ${keyFile}; a server accepts this token only if it uses the same key (forge serve --data-dir ${resolve(opts.dataDir ?? settings.dataDir)}, or FORGE_TOKEN_KEY_FILE)\n`,
          );
          return signToken(key, opts.subject, opts.role, ttl, { repositories: opts.repository, maxLifetimeSeconds });
        });
        print(created, format, () => created.token);
      }),
    );
  clientOptions(
    token
      .command('revoke')
      .description('revoke an embedded token by its id (operator): every replica refuses it within 5 s, and its event streams end')
      .argument('<id>', 'the token id (jti) that "forge token create -o json" printed as "id"'),
  )
    .option('--reason <text>', 'why, recorded in the audit log')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (id: string, opts: { server?: string; token?: string; reason?: string; output: string }) => {
        const format = parseFormat(opts.output);
        const r = await client(opts).request<TokenRevocation>('POST', '/tokens/revocations', {
          token_id: id,
          ...(opts.reason ? { reason: opts.reason } : {}),
        });
        print(r, format, () => `revoked token ${r.token_id} (by ${r.revoked_by} at ${r.revoked_at}${r.reason ? `: ${r.reason}` : ''})`);
      }),
    );
}
