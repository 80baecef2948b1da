/**
 * Logging in to the company's OIDC issuer from the CLI (openid-client): the device
 * authorization grant, and refreshing a stored token that has expired.
 */
import * as oidc from 'openid-client';

export interface IssuerOptions {
  issuer: string;
  clientId: string;
  /** The API's audience, sent as the resource indicator (RFC 8707) when given. */
  audience?: string;
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  expires_at?: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

async function configuration(o: IssuerOptions): Promise<oidc.Configuration> {
  const url = new URL(o.issuer);
  // Plain HTTP only to an issuer on this machine (development, tests); HTTPS otherwise.
  const execute = url.protocol === 'http:' && LOOPBACK.has(url.hostname) ? [oidc.allowInsecureRequests] : [];
  try {
    return await oidc.discovery(url, o.clientId, undefined, oidc.None(), { execute });
  } catch (err) {
    throw new Error(`cannot read the OpenID configuration of ${o.issuer}: ${(err as Error).message}`);
  }
}

function tokensOf(res: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): Tokens {
  const seconds = res.expiresIn();
  return {
    access_token: res.access_token,
    ...(res.refresh_token ? { refresh_token: res.refresh_token } : {}),
    ...(seconds !== undefined ? { expires_at: new Date(Date.now() + seconds * 1000).toISOString() } : {}),
  };
}

/** The device flow: shows where to go and which code to enter, waits until the person has approved. */
export async function deviceLogin(
  o: IssuerOptions & { scope: string },
  show: (uri: string, code: string, complete?: string) => void,
): Promise<Tokens> {
  const config = await configuration(o);
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new Error(
      `${o.issuer} does not offer the device flow: log in with a token instead (forge login --token TOKEN, or --token - to read it from stdin)`,
    );
  }
  const resource: Record<string, string> = o.audience ? { resource: o.audience } : {};
  const device = await oidc.initiateDeviceAuthorization(config, { scope: o.scope, ...resource });
  show(device.verification_uri, device.user_code, device.verification_uri_complete);
  return tokensOf(await oidc.pollDeviceAuthorizationGrant(config, device, resource));
}

export async function refresh(o: IssuerOptions, refreshToken: string): Promise<Tokens> {
  const config = await configuration(o);
  const tokens = tokensOf(await oidc.refreshTokenGrant(config, refreshToken, o.audience ? { resource: o.audience } : {}));
  return { refresh_token: refreshToken, ...tokens };
}
