/**
 * Log-in through the company's OpenID Connect issuer, when the server names one and the
 * dashboard's public client (GET /dashboard-config.json): authorization code with PKCE, the
 * access token asked for the API's audience (resource indicator). The token then works like a
 * pasted one; when it expires the page asks to log in again.
 */
export interface OidcConfig {
  issuer: string;
  client_id: string;
  audience: string;
  scope: string;
}

const PENDING = 'forge.oidc';
export const CALLBACK_PATH = '/login/callback';

export async function loadConfig(): Promise<OidcConfig | null> {
  try {
    const res = await fetch('/dashboard-config.json');
    return res.ok ? ((await res.json()) as { oidc: OidcConfig | null }).oidc : null;
  } catch {
    return null;
  }
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let doc: Discovery;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${res.status}`);
    doc = await res.json();
  } catch (err) {
    throw new Error(`the identity provider could not be reached (${url}: ${(err as Error).message})`);
  }
  if (doc.issuer !== issuer) throw new Error(`${url} names the issuer ${doc.issuer}, not ${issuer}`);
  return doc;
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const redirectUri = () => `${location.origin}${CALLBACK_PATH}`;

/** Leaves for the issuer's log-in page; it comes back to CALLBACK_PATH. */
export async function startLogin(cfg: OidcConfig, returnTo: string): Promise<void> {
  const d = await discover(cfg.issuer);
  const verifier = random();
  const state = random();
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(d.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: cfg.client_id,
    redirect_uri: redirectUri(),
    scope: cfg.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: cfg.audience,
  }).toString();
  location.assign(url.toString());
}

/** On CALLBACK_PATH: checks the state, trades the code for an access token; answers it and where to go next. */
export async function finishLogin(cfg: OidcConfig): Promise<{ token: string; returnTo: string }> {
  const params = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string; returnTo: string } | null;
  sessionStorage.removeItem(PENDING);
  if (params.get('error')) throw new Error(`the identity provider refused: ${params.get('error_description') ?? params.get('error')}`);
  if (!pending || params.get('state') !== pending.state)
    throw new Error('this log-in answer does not belong to a log-in started here; start again');
  const code = params.get('code');
  if (!code) throw new Error('the identity provider sent no authorization code');
  const d = await discover(cfg.issuer);
  const res = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: cfg.client_id,
      code_verifier: pending.verifier,
      resource: cfg.audience,
    }),
  });
  const body = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !body.access_token)
    throw new Error(`the identity provider gave no token: ${body.error_description ?? body.error ?? res.status}`);
  return { token: body.access_token, returnTo: pending.returnTo };
}
