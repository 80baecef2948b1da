/**
 * GET /events (DESIGN.md §10): server-sent events for release, deployment, approval and pin
 * changes, read from the audit log by the process's audit feed (src/services/audit-feed.ts).
 * EventSource cannot send headers, so this route alone also accepts the bearer token as
 * `?access_token=` (logged URLs have it redacted, see redactAccessToken).
 */
import type { FastifyRequest } from 'fastify';
import { EventsQuery, errorResponses } from '../../contract/index.js';
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

/** A URL for the request log, with any access token replaced. */
export function redactAccessToken(url: string): string {
  return url.replace(/([?&]access_token=)[^&]*/g, '$1[redacted]');
}

export async function eventRoutes(app: App, ctx: AppContext, hide: boolean) {
  const feed = auditFeedFor(ctx.db);
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
      authorize(req, { kind: 'read' });
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
      await feed.add(res, lastEventId).catch(() => res.end());
    },
  );
}
