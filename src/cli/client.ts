/**
 * The CLI's HTTP client: `--server`/FORGE_URL and `--token`/FORGE_TOKEN (else `forge login`'s
 * stored token), errors from the API's envelope. The environment's values come from
 * src/cli/settings.ts when the command runs: commander shows no default for --token, so the
 * token never appears in `--help` or in a usage error.
 */
import type { Command } from 'commander';
import { storedToken } from './credentials.js';
import { type CliSettings, cliSettings } from './settings.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  server?: string;
  token?: string;
}

/** Adds --server and --token to a client command; their environment defaults are resolved by `client()`. */
export function clientOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'Forge server URL (env FORGE_URL, default http://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token (env FORGE_TOKEN)');
}

/** The server a command talks to: --server, else FORGE_URL, else http://127.0.0.1:8080. */
export function serverOf(opts: ClientOptions, settings: CliSettings = cliSettings()): string {
  return opts.server ?? settings.server;
}

export interface Client {
  request<T = unknown>(method: string, path: string, body?: unknown, accept?: string): Promise<T>;
}

/** How long one request may take (a deployment answers after its GitOps push): then the command fails instead of hanging. */
const REQUEST_TIMEOUT_MS = 60_000;

/** The server URL as messages show it: credentials a URL may carry (`https://user:secret@host`) are masked. */
export function displayServer(base: string): string {
  return base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}

/** A client for the command's server; the token is --token, else FORGE_TOKEN, else the one `forge login` stored. */
export function client(opts: ClientOptions, settings: CliSettings = cliSettings()): Client {
  // the API's own prefix is added here: a URL written with it (…/api/v1) names the same server
  const base = serverOf(opts, settings)
    .replace(/\/+$/, '')
    .replace(/\/api\/v1$/, '');
  const shown = displayServer(base);
  return {
    async request(method, path, body, accept = 'application/json') {
      if (!/^https?:\/\/[^/]/i.test(base) || !URL.canParse(base))
        throw new ApiError(
          0,
          'bad_server_url',
          `--server / FORGE_URL "${shown}" is not an http(s) URL\nhint: write it with its scheme, e.g. http://127.0.0.1:8080`,
        );
      const headers: Record<string, string> = { accept };
      const token = opts.token || settings.token || (await storedToken(base));
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(`${base}/api/v1${path}`, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') {
          throw new ApiError(
            0,
            'timeout',
            `the Forge server at ${shown} did not answer ${method} /api/v1${path} within ${REQUEST_TIMEOUT_MS / 1000} s\nhint: check that --server / FORGE_URL names forge serve and that it is not overloaded`,
          );
        }
        const why = String((err as Error).cause ?? (err as Error).message).split('\n')[0];
        // https:// to a server that speaks plain http fails in the TLS handshake
        const tls = /^https:/i.test(base) && /wrong version number|ssl|tls|EPROTO/i.test(why);
        throw new ApiError(
          0,
          'unreachable',
          `cannot reach the Forge server at ${shown}: ${tls ? 'the TLS handshake failed (the server does not speak https)' : why.replaceAll(base, shown)}\nhint: ${tls ? `forge serve speaks plain http: use ${shown.replace(/^https:/i, 'http:')}, or put a TLS proxy in front of it` : 'start it (forge serve), or point --server / FORGE_URL at a running one'}`,
        );
      }
      const text = await res.text();
      const isJson = (res.headers.get('content-type') ?? '').includes('json');
      let parsed: unknown;
      try {
        parsed = isJson ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      const env = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
      // Forge answers every failure with its error envelope and JSON with JSON: anything else is another server.
      const forgeError = env && typeof env.code === 'string' && typeof env.message === 'string';
      if ((!res.ok && !forgeError) || (res.ok && accept.includes('json') && parsed === undefined)) {
        throw new ApiError(
          res.status,
          'not_forge',
          `${shown} is not a Forge server: ${method} /api/v1${path} answered ${res.status} ${res.statusText}${isJson ? '' : ` (${res.headers.get('content-type') ?? 'no content type'})`}\nhint: point --server / FORGE_URL at forge serve (default http://127.0.0.1:8080; the URL without /api/v1)`,
        );
      }
      if (!res.ok) throw new ApiError(res.status, env!.code as string, env!.message as string, env!.details);
      return (isJson ? parsed : text) as never;
    },
  };
}
