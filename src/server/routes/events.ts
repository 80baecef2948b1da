/**
 * GET /events (DESIGN.md §10): server-sent events for release, deployment, approval and pin
 * changes, read from the audit log by the process's audit feed (src/services/audit-feed.ts).
 * EventSource cannot send headers, so this route alone also accepts the bearer token as
 * `?access_token=` (logged URLs have it redacted, see redactAccessToken).
 */
import type { FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { EventsQuery, errorResponses } from '../../contract/index.js';
import { ForgeError } from '../../core/errors.js';
import { auditFeedFor } from '../../services/audit-feed.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route accepts the bearer token in `?access_token=` (event streams only). */
    queryToken?: boolean;
  }
}

/** The `?access_token=` of a request to a route that accepts one and has no Authorization header. */
export function queryToken(req: FastifyRequest): string | undefined {
  if (!req.routeOptions.config?.queryToken || req.headers.authorization) return undefined;
  const token = (req.query as { access_token?: unknown } | undefined)?.access_token;
  return typeof token === 'string' && token ? token : undefined;
}

/** Query parameters whose value is a credential, by decoded name. */
const SECRET_PARAMETER = /token|secret|password|passwd|key|code|signature|sig$|auth/i;

/**
 * A URL for the request log, with the value of every credential-like query parameter
 * (`access_token` and the like) replaced. Names are compared decoded, so `?%61ccess_token=`
 * and `?access%5Ftoken=` are redacted too; a name that cannot be decoded redacts its value.
 */
export function redactAccessToken(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const pairs = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded: string | undefined;
      try {
        decoded = decodeURIComponent(name.replaceAll('+', ' '));
      } catch {
        decoded = undefined;
      }
      if (decoded !== undefined && !SECRET_PARAMETER.test(decoded)) return pair;
      return eq < 0 && decoded !== undefined ? pair : `${name}=[redacted]`;
    });
  return `${url.slice(0, at + 1)}${pairs.join('&')}`;
}

/** The request's bearer token, from the Authorization header or `?access_token=`. */
function bearerOf(req: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? queryToken(req);
}

/** How often an open stream checks that its token is still accepted (revoked, or refused for another reason), ms. */
export const RECHECK_MS = 2_000;

/** When the request's bearer token (header or `?access_token=`) expires, ms since the epoch; undefined when it carries no `exp`. */
export function tokenExpiry(req: FastifyRequest): number | undefined {
  const token = bearerOf(req);
  if (!token) return undefined;
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Open streams per server (both prefixes share one count): a cap that protects this process's sockets and memory, and decides nothing else. */
const openStreams = new WeakMap<AppContext, { count: number; bySubject: Map<string, number> }>();

/**
 * A stream ends when its token expires, and within RECHECK_MS of its token being revoked (the
 * client reconnects with a fresh one, EventSource does so by itself). A replica holds at most
 * `settings.maxEventStreams` streams, and `settings.maxEventStreamsPerSubject` of one subject
 * (issue 19 item 5).
 */
export async function eventRoutes(app: App, ctx: AppContext, hide: boolean) {
  const feed = auditFeedFor(ctx.db);
  if (!openStreams.has(ctx)) openStreams.set(ctx, { count: 0, bySubject: new Map() });
  const open = openStreams.get(ctx)!;
  app.addHook('preClose', async () => feed.close());

  app.get(
    '/events',
    {
      config: { queryToken: true },
      schema: {
        hide,
        tags: ['events'],
        summary:
          'Server-sent events for release, deployment, approval and pin changes (read from the audit log). Accepts ?access_token= for EventSource clients',
        querystring: EventsQuery,
        produces: ['text/event-stream'],
        response: {
          200: {
            description:
              'text/event-stream; each event has id = audit seq, event = release|deployment|approval|pin, data = the audit entry',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { subject } = authorize(req, { kind: 'read' });
      if (open.count >= ctx.settings.maxEventStreams)
        throw new ForgeError(
          'too_many_requests',
          `this replica already serves ${ctx.settings.maxEventStreams} event streams (FORGE_MAX_EVENT_STREAMS): retry later`,
        );
      const mine = open.bySubject.get(subject) ?? 0;
      if (mine >= ctx.settings.maxEventStreamsPerSubject)
        throw new ForgeError(
          'too_many_requests',
          `${subject} already has ${mine} event streams open on this replica (FORGE_MAX_EVENT_STREAMS_PER_SUBJECT): close one, or retry later`,
        );
      const expiresAt = tokenExpiry(req);
      const token = bearerOf(req);
      const header = req.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n\n');
      open.count++;
      open.bySubject.set(subject, mine + 1);
      const end = (event: string, reason: string) => {
        if (!res.writableEnded) res.end(`event: ${event}\ndata: ${JSON.stringify({ reason })}\n\n`);
      };
      // A revoked token (or one refused for any other reason since) ends the stream too.
      const recheck = token
        ? setInterval(() => {
            ctx.auth.authenticate(token).catch((err: Error) => end('token-revoked', `${err.message}; reconnect with a valid token`));
          }, RECHECK_MS)
        : undefined;
      const expiry =
        expiresAt === undefined
          ? undefined
          : setTimeout(
              () => res.end('event: token-expired\ndata: {"reason":"the token expired: reconnect with a new one"}\n\n'),
              Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)),
            );
      res.on('close', () => {
        open.count--;
        const left = (open.bySubject.get(subject) ?? 1) - 1;
        if (left > 0) open.bySubject.set(subject, left);
        else open.bySubject.delete(subject);
        if (expiry) clearTimeout(expiry);
        if (recheck) clearInterval(recheck);
      });
      await feed.add(res, lastEventId).catch(() => res.end());
    },
  );
}
