/**
 * The dashboard's static files (built by `npm run build` into dist/web), public like the
 * other static assets (DESIGN.md §10). Any other GET outside the API answers index.html, so
 * the dashboard's own addresses (/approvals, /releases/...) load it on a reload or a shared link.
 * GET /dashboard-config.json tells the page, before log-in, whether it offers the OIDC log-in.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import { ForgeError } from '../../core/errors.js';
import type { App } from '../context.js';
import type { Settings } from '../settings.js';

/** dist/web of this package, from src/server/routes (tsx) or dist/src/server/routes (compiled). */
export function webAssetsDir(from = import.meta.dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return join(dir, 'dist', 'web');
}

const isApi = (path: string) => /^\/(api|v1)(\/|$)/.test(path);

/**
 * What the page needs before anyone logs in: the OIDC issuer, the dashboard's public client id
 * and the API audience, when both issuer and client id are configured; null otherwise.
 */
export function dashboardConfig(settings: Settings) {
  const { oidc, oidcWebClientId, oidcWebScope } = settings;
  return {
    oidc:
      oidc && oidcWebClientId ? { issuer: oidc.issuer, client_id: oidcWebClientId, audience: oidc.audience[0], scope: oidcWebScope } : null,
  };
}

/**
 * The headers every dashboard answer carries (issue 19 item 7): a Content-Security-Policy that
 * lets the page load only its own scripts and talk only to this server and the OIDC issuer,
 * and refuses framing (clickjacking); no MIME sniffing; no referrer to other sites.
 */
export function dashboardHeaders(settings: Settings): Record<string, string> {
  let issuerOrigin = '';
  try {
    issuerOrigin = settings.oidc ? ` ${new URL(settings.oidc.issuer).origin}` : '';
  } catch {
    issuerOrigin = '';
  }
  return {
    'content-security-policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      `connect-src 'self'${issuerOrigin}`,
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
}

export async function webRoutes(app: App, settings: Settings, root = webAssetsDir()) {
  await app.register(fastifyStatic, { root, serve: false });
  const config = dashboardConfig(settings);
  const headers = dashboardHeaders(settings);

  app.get('/dashboard-config.json', { schema: { hide: true } }, async (_req, reply) =>
    reply.headers(headers).header('cache-control', 'no-cache').send(config),
  );

  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0];
    if (isApi(path)) throw new ForgeError('not_found', `no route ${req.method} ${path}`);
    reply.headers(headers);
    if (!existsSync(join(root, 'index.html'))) {
      throw new ForgeError('not_found', `the dashboard is not built: no ${join(root, 'index.html')}; run "npm run build"`);
    }
    let rel: string;
    try {
      rel = normalize(decodeURIComponent(path)).replace(/^[/\\]+/, '');
    } catch {
      throw new ForgeError('validation_error', `the path ${path} is not valid percent-encoding`);
    }
    const file = join(root, rel);
    if (rel && (file + sep).startsWith(root + sep) && statSync(file, { throwIfNoEntry: false })?.isFile()) {
      // Vite names built assets by content hash: they never change under one name.
      const immutable = rel.startsWith(`assets${sep}`);
      return reply.sendFile(rel, { maxAge: immutable ? '365d' : 0, immutable, cacheControl: true });
    }
    if (rel.startsWith(`assets${sep}`)) throw new ForgeError('not_found', `no file ${path} in the dashboard`);
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  });
}
