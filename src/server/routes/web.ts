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

export async function webRoutes(app: App, settings: Settings, root = webAssetsDir()) {
  await app.register(fastifyStatic, { root, serve: false });
  const config = dashboardConfig(settings);

  app.get('/dashboard-config.json', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', 'no-cache').send(config),
  );

  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0];
    if (isApi(path)) throw new ForgeError('not_found', `no route ${req.method} ${path}`);
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
