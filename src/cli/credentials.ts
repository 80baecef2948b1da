/**
 * The CLI's stored credentials (`forge login`): one JSON file, mode 0600 in a 0700 directory,
 * holding a token per server. `FORGE_CONFIG_DIR` names the directory (default
 * `$XDG_CONFIG_HOME/forge`, else `~/.config/forge`; resolved by src/cli/settings.ts). Client
 * commands use it when neither `--token` nor `FORGE_TOKEN` is given.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliSettings } from './settings.js';

export interface StoredCredential {
  token: string;
  subject: string;
  roles: string[];
  /** When the access token expires (ISO), when known. */
  expires_at?: string;
  /** Device-flow logins: what is needed to refresh the token without a new login. */
  refresh_token?: string;
  issuer?: string;
  client_id?: string;
  audience?: string;
}

type CredentialsFile = { servers: Record<string, StoredCredential> };

/** The credentials file in the CLI's config directory (CliSettings.configDir). */
export function credentialsPath(dir = cliSettings().configDir): string {
  return join(dir, 'credentials.json');
}

/** The key a server's credential is stored under: its URL without a trailing slash. */
export const serverKey = (server: string) => server.replace(/\/+$/, '');

function read(): CredentialsFile {
  const path = credentialsPath();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: {} };
    throw err;
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    process.stderr.write(`warning: ${path} can be read by other users; "forge login" rewrites it with mode 0600\n`);
  }
  try {
    const parsed = JSON.parse(text) as CredentialsFile;
    return parsed && typeof parsed.servers === 'object' ? parsed : { servers: {} };
  } catch {
    throw new Error(`${path} is not valid JSON: run "forge login" again (or delete the file)`);
  }
}

/** Writes the whole file atomically (temp file of mode 0600, then rename). */
function write(file: CredentialsFile): string {
  const dir = cliSettings().configDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = credentialsPath(dir);
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600); // whatever the umask
  renameSync(tmp, path);
  return path;
}

export function loadCredential(server: string): StoredCredential | undefined {
  return read().servers[serverKey(server)];
}

export function saveCredential(server: string, credential: StoredCredential): string {
  const file = read();
  file.servers[serverKey(server)] = credential;
  return write(file);
}

export function removeCredential(server: string): boolean {
  const file = read();
  if (!file.servers[serverKey(server)]) return false;
  delete file.servers[serverKey(server)];
  if (Object.keys(file.servers).length) write(file);
  else rmSync(credentialsPath(), { force: true });
  return true;
}

/**
 * The token stored for a server, refreshed first when it has expired (or is about to) and the
 * login left a refresh token.
 */
export async function storedToken(server: string): Promise<string | undefined> {
  const cred = loadCredential(server);
  if (!cred) return undefined;
  const expiring = cred.expires_at !== undefined && Date.parse(cred.expires_at) - 30_000 < Date.now();
  if (!expiring || !cred.refresh_token || !cred.issuer || !cred.client_id) return cred.token;
  let fresh;
  try {
    const { refresh } = await import('./oidc-login.js'); // loaded only when needed: it is the slowest import of the CLI
    fresh = await refresh({ issuer: cred.issuer, clientId: cred.client_id, audience: cred.audience }, cred.refresh_token);
  } catch (err) {
    throw new Error(
      `the login for ${serverKey(server)} has expired and could not be refreshed (${(err as Error).message}): run "forge login" again`,
    );
  }
  saveCredential(server, {
    ...cred,
    token: fresh.access_token,
    refresh_token: fresh.refresh_token ?? cred.refresh_token,
    expires_at: fresh.expires_at,
  });
  return fresh.access_token;
}
