/**
 * A real OpenID Connect provider for tests (the `oidc-provider` package) on a loopback port:
 * client credentials for CI, the device flow for people (its built-in development login form
 * accepts any login name; the account's groups come from `accounts`), JWT access tokens with
 * the audience of the resource asked for.
 */

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export const FORGE_AUDIENCE = 'https://forge.example/api';
/** The dashboard's client id (authorization code with PKCE, in the browser). */
export const WEB_CLIENT_ID = 'forge-web';

export interface Idp {
  issuer: string;
  ciClient: { id: string; secret: string };
  cliClientId: string;
  /** A client-credentials access token; `resource` picks the audience. */
  clientToken(opts?: { resource?: string; clientId?: string; secret?: string }): Promise<string>;
  /** Completes a device-flow login in "the user's browser": enter the code, sign in as `login`, consent. */
  approveDevice(verificationUri: string, userCode: string, login: string): Promise<void>;
  /** A person's access token for the Forge audience: the whole device flow, as `login`. */
  userToken(login: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startIdp(
  o: {
    accounts?: Record<string, { groups: string[] }>;
    clientTokenTtl?: number;
    alg?: 'RS256' | 'ES256';
    /** An account's email, read at each token (change it between logins to model a provider that lets users change it); default <id>@example.com. */
    emails?: Record<string, string>;
  } = {},
): Promise<Idp> {
  const accounts = o.accounts ?? {};
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const alg = o.alg ?? 'RS256';
  const key =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
      : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const ciClient = { id: 'forge-ci', secret: 'ci-secret-0123456789-abcdefghijklmnop' };
  const common = { redirect_uris: [], response_types: [], id_token_signed_response_alg: alg };
  const provider = new Provider(issuer, {
    clients: [
      {
        ...common,
        client_id: ciClient.id,
        client_secret: ciClient.secret,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        ...common,
        client_id: 'other-ci',
        client_secret: 'other-secret-0123456789-abcdefghijklm',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        ...common,
        client_id: 'forge-cli',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      },
      // the dashboard: a public client with PKCE; a loopback redirect of any port (RFC 8252), as test servers listen on random ports
      {
        ...common,
        client_id: WEB_CLIENT_ID,
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/login/callback'],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'none',
      },
    ],
    jwks: {
      keys: [{ ...(key.export({ format: 'jwk' }) as object), kid: `key-${randomBytes(4).toString('hex')}`, alg, use: 'sig' } as never],
    },
    // the dashboard calls discovery and the token endpoint from the page of a test server on any loopback port
    clientBasedCORS: (_ctx, origin, client) => client.clientId === WEB_CLIENT_ID && /^http:\/\/127\.0\.0\.1:\d+$/.test(origin),
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => FORGE_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: 'forge',
          audience: resource,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        }),
      },
    },
    scopes: ['openid', 'email', 'offline_access', 'forge'],
    claims: { openid: ['sub'], email: ['email'] },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: o.emails?.[id] ?? `${id}@example.com` }) }),
    extraTokenClaims: (_ctx, token) => {
      const id = (token as { accountId?: string }).accountId;
      return id ? { email: o.emails?.[id] ?? `${id}@example.com`, groups: accounts[id]?.groups ?? [] } : undefined;
    },
    ttl: {
      ClientCredentials: o.clientTokenTtl ?? 600,
      AccessToken: 600,
      DeviceCode: 600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
      IdToken: 600,
    },
  });
  server.on('request', provider.callback());

  const clientToken: Idp['clientToken'] = async (opts = {}) => {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: opts.clientId ?? ciClient.id,
        client_secret: opts.secret ?? ciClient.secret,
        resource: opts.resource ?? FORGE_AUDIENCE,
        scope: 'forge',
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || !body.access_token) throw new Error(`client credentials grant failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  };

  const approveDevice: Idp['approveDevice'] = async (verificationUri, userCode, login) => {
    const jar = new Map<string, string>();
    const go = async (url: string, form?: Record<string, string>): Promise<{ url: string; html: string }> => {
      for (let hops = 0; ; hops++) {
        const res = await fetch(url, {
          method: form ? 'POST' : 'GET',
          redirect: 'manual',
          headers: {
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          body: form ? new URLSearchParams(form) : undefined,
        });
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const i = pair.indexOf('=');
          jar.set(pair.slice(0, i), pair.slice(i + 1));
        }
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
          url = new URL(location, url).toString();
          form = undefined;
          if (hops > 10) throw new Error('too many redirects');
          continue;
        }
        const html = await res.text();
        if (res.status >= 400) throw new Error(`${url}: ${res.status} ${html.slice(0, 300)}`);
        return { url, html };
      }
    };
    const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
    const action = (html: string, base: string) => new URL(/<form[^>]*action="([^"]+)"/.exec(html)![1], base).toString();
    let page = await go(verificationUri);
    page = await go(action(page.html, page.url), { xsrf: field(page.html, 'xsrf'), user_code: userCode });
    page = await go(action(page.html, page.url), {
      xsrf: field(page.html, 'xsrf'),
      user_code: field(page.html, 'user_code'),
      confirm: 'yes',
    });
    page = await go(action(page.html, page.url), { prompt: 'login', login, password: 'any' });
    if (page.html.includes('name="prompt" value="consent"')) page = await go(action(page.html, page.url), { prompt: 'consent' });
    if (!/Sign-in Success/.test(page.html)) throw new Error(`device login did not finish: ${page.html.slice(0, 500)}`);
  };

  const form = async (path: string, params: Record<string, string>) => {
    const res = await fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
    const body = (await res.json()) as Record<string, string>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  const userToken: Idp['userToken'] = async (login) => {
    const device = await form('/device/auth', { client_id: 'forge-cli', scope: 'openid email forge', resource: FORGE_AUDIENCE });
    await approveDevice(device.verification_uri, device.user_code, login);
    const token = await form('/token', {
      client_id: 'forge-cli',
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: device.device_code,
      resource: FORGE_AUDIENCE,
    });
    return token.access_token;
  };

  return {
    issuer,
    ciClient,
    cliClientId: 'forge-cli',
    clientToken,
    approveDevice,
    userToken,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
