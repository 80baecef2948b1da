/**
 * `forge login` and `forge logout`: store (or forget) a token for a server in the credentials
 * file (src/cli/credentials.ts). The token comes from the company's OIDC issuer by the device
 * flow, or is pasted (`--token TOKEN`, `--token -` reads it from stdin). Either way the server
 * is asked who it is first (GET /whoami): a token it refuses is not stored.
 */
import type { Command } from 'commander';
import { client, serverOf } from '../client.js';
import { removeCredential, type StoredCredential, saveCredential, serverKey } from '../credentials.js';
import { UsageError } from '../output.js';
import { run } from '../run.js';
import { cliSettings } from '../settings.js';

type Opts = {
  server?: string;
  token?: string;
  issuer?: string;
  clientId?: string;
  audience?: string;
  scope: string;
};

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
}

function expiry(token: string): string | undefined {
  try {
    // The payload's exp only, for display (the server verifies the token): no JWT library at start.
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
    return exp ? new Date(exp * 1000).toISOString() : undefined;
  } catch {
    return undefined;
  }
}

export function registerLogin(program: Command) {
  program
    .command('login')
    .description('log in to a Forge server: the device flow of its OIDC issuer, or a pasted token; stores the credentials (mode 0600)')
    .option('--server <url>', 'Forge server URL (env FORGE_URL, default http://127.0.0.1:8080)')
    .option('--token <token>', 'store this token instead of logging in ("-" reads it from stdin)')
    .option('--issuer <url>', 'OIDC issuer (env FORGE_OIDC_ISSUER)')
    .option('--client-id <id>', "the CLI's OIDC client id (env FORGE_OIDC_CLIENT_ID)")
    .option('--audience <aud>', 'the API audience, sent as the resource indicator (env FORGE_OIDC_AUDIENCE)')
    .option('--scope <scopes>', 'scopes to ask for', 'openid email profile offline_access')
    .action(
      run(async (flags: Opts) => {
        const { oidc } = cliSettings();
        const opts = {
          ...flags,
          server: serverOf(flags),
          issuer: flags.issuer ?? oidc.issuer,
          clientId: flags.clientId ?? oidc.clientId,
          audience: flags.audience ?? oidc.audience,
        };
        let credential: Omit<StoredCredential, 'subject' | 'roles'>;
        if (opts.token !== undefined) {
          const token = opts.token === '-' ? await readStdin() : opts.token.trim();
          if (!token) throw new UsageError('no token given: pass --token TOKEN, or --token - with the token on stdin');
          credential = { token, expires_at: expiry(token) };
        } else {
          if (!opts.issuer || !opts.clientId) {
            throw new UsageError(
              "to log in, give the OIDC issuer and the CLI's client id (--issuer URL --client-id ID, or FORGE_OIDC_ISSUER and FORGE_OIDC_CLIENT_ID), or store a token with --token",
            );
          }
          const { deviceLogin } = await import('../oidc-login.js'); // openid-client is loaded only to log in
          const tokens = await deviceLogin(
            { issuer: opts.issuer, clientId: opts.clientId, audience: opts.audience, scope: opts.scope },
            (uri, code, complete) => {
              process.stderr.write(
                `To log in, open ${complete ?? uri}\nand check that it shows the code ${code}\nWaiting for you to finish...\n`,
              );
            },
          );
          credential = {
            token: tokens.access_token,
            expires_at: tokens.expires_at ?? expiry(tokens.access_token),
            refresh_token: tokens.refresh_token,
            issuer: opts.issuer,
            client_id: opts.clientId,
            audience: opts.audience,
          };
        }
        const me = await client({ server: opts.server, token: credential.token }).request<{
          subject: string;
          roles: string[];
          display?: string;
        }>('GET', '/whoami');
        const path = saveCredential(opts.server, { ...credential, subject: me.subject, roles: me.roles });
        process.stderr.write(
          `logged in to ${serverKey(opts.server)} as ${me.display ? `${me.display} [${me.subject}]` : me.subject} (${me.roles.join(', ') || 'no roles'}); credentials in ${path}\n`,
        );
      }),
    );

  program
    .command('logout')
    .description('forget the stored credentials for a server')
    .option('--server <url>', 'Forge server URL (env FORGE_URL, default http://127.0.0.1:8080)')
    .action(
      run(async (opts: { server?: string }) => {
        const server = serverOf(opts);
        const removed = removeCredential(server);
        process.stderr.write(removed ? `logged out of ${serverKey(server)}\n` : `no stored credentials for ${serverKey(server)}\n`);
      }),
    );
}
