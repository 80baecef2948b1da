/** The CLI's HTTP client: `--server`/FORGE_URL and `--token`/FORGE_TOKEN (else `forge login`'s stored token), errors from the API's envelope. */
import type { Command } from 'commander';
import { storedToken } from './credentials.js';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

export interface ClientOptions {
  server?: string;
  token?: string;
}

/** Adds --server and --token to a client command. */
export function clientOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'Forge server URL (env FORGE_URL)', process.env.FORGE_URL ?? 'http://127.0.0.1:8080')
    .option('--token <token>', 'bearer token (env FORGE_TOKEN)', process.env.FORGE_TOKEN);
}

export interface Client {
  request<T = unknown>(method: string, path: string, body?: unknown, accept?: string): Promise<T>;
}

export function client(opts: ClientOptions): Client {
  const base = (opts.server ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  return {
    async request(method, path, body, accept = 'application/json') {
      const headers: Record<string, string> = { accept };
      const token = opts.token || await storedToken(base);
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (err) {
        throw new ApiError(0, 'unreachable', `cannot reach the Forge server at ${base}: ${(err as Error).cause ?? (err as Error).message}`);
      }
      const text = await res.text();
      const isJson = (res.headers.get('content-type') ?? '').includes('json');
      if (!res.ok) {
        const env = isJson ? JSON.parse(text)?.error : undefined;
        throw new ApiError(res.status, env?.code ?? String(res.status), env?.message ?? `${res.status} ${res.statusText}`, env?.details);
      }
      return (isJson ? JSON.parse(text) : text) as never;
    },
  };
}
