/**
 * Registry authentication (distribution spec): answers a 401 challenge with basic
 * credentials, or with a bearer token fetched from the challenge's realm. Tokens are kept in
 * memory per scope until shortly before they expire; that cache only saves round trips.
 */
import { ForgeError } from '../core/errors.js';

export interface Credentials {
  username?: string;
  password?: string;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

function parseChallenge(header: string): Challenge {
  const space = header.indexOf(' ');
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { scheme, params };
}

function unavailable(message: string): ForgeError {
  return new ForgeError('registry_unavailable', message);
}

export class RegistryAuth {
  private basic = false;
  private readonly tokens = new Map<string, { value: string; expiresAt: number }>();

  constructor(
    private readonly registry: string,
    private readonly credentials: Credentials,
    private readonly timeoutMs: number,
  ) {}

  private basicHeader(): string | undefined {
    const { username, password } = this.credentials;
    if (username === undefined && password === undefined) return undefined;
    return `Basic ${Buffer.from(`${username ?? ''}:${password ?? ''}`).toString('base64')}`;
  }

  /** The Authorization header to send for `scope` from what earlier challenges taught, if any. */
  header(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    if (token && token.expiresAt > Date.now()) return `Bearer ${token.value}`;
    return this.basic ? this.basicHeader() : undefined;
  }

  /** Learns from a 401 answer; afterwards `header(scope)` gives credentials worth a retry. */
  async answer(wwwAuthenticate: string | null, scope: string): Promise<void> {
    if (!wwwAuthenticate) throw unavailable(`registry ${this.registry} answered 401 without a WWW-Authenticate challenge`);
    const challenge = parseChallenge(wwwAuthenticate);
    if (challenge.scheme === 'basic') {
      if (!this.basicHeader()) throw unavailable(`registry ${this.registry} requires credentials (set FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD)`);
      this.basic = true;
      return;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) {
      throw unavailable(`registry ${this.registry} asks for unsupported authentication "${challenge.scheme}"`);
    }
    this.tokens.set(scope, await this.fetchToken(challenge.params, scope));
  }

  private async fetchToken(params: Record<string, string>, scope: string): Promise<{ value: string; expiresAt: number }> {
    let url: URL;
    try {
      url = new URL(params.realm!);
    } catch {
      throw unavailable(`registry ${this.registry} names an invalid token realm "${params.realm}"`);
    }
    if (params.service) url.searchParams.set('service', params.service);
    const wanted = params.scope ?? scope;
    if (wanted) url.searchParams.set('scope', wanted);
    const headers: Record<string, string> = {};
    const basic = this.basicHeader();
    if (basic) headers.authorization = basic;
    const where = `token service ${url.origin}${url.pathname} of registry ${this.registry}`;
    let res: Response;
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      res = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw unavailable(`${where} rejected the credentials (HTTP ${res.status})`);
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw unavailable(`${where} answered HTTP ${res.status}`);
      }
      body = (await res.json()) as typeof body;
    } catch (err) {
      if (err instanceof ForgeError) throw err;
      throw unavailable(`${where} failed: ${describeFetchError(err, this.timeoutMs)}`);
    }
    const value = body.token ?? body.access_token;
    if (!value) throw unavailable(`${where} answered without a token`);
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    // Renew 10 s early so a token does not expire between being picked and being checked.
    return { value, expiresAt: Date.now() + Math.max(lifetime - 10, 1) * 1000 };
  }
}

/** What went wrong with a fetch, in words, without URLs or headers (which could hold secrets). */
export function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  return e?.cause?.message || e?.cause?.code || e?.message || String(err);
}
