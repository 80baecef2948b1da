/**
 * GET /events (DESIGN.md §10): server-sent events for release, deployment, approval and pin
 * changes. They are read from the audit log, which every replica writes in one database
 * (§11, §12): a change made through any replica reaches the clients of every replica. One
 * poller per process reads new entries (by `seq`) about once a second while clients listen.
 *
 * Each event's id is the audit entry's `seq`, so a reconnecting EventSource (Last-Event-ID)
 * gets what it missed. EventSource cannot send headers, so this route alone also accepts the
 * bearer token as `?access_token=` (logged URLs have it redacted, see redactAccessToken).
 */
import type { FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import type { Db } from '../../store/db.js';
import type { App, AppContext } from '../app.js';
import { authorize } from '../auth.js';
import { errorResponses } from '../schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route accepts the bearer token in `?access_token=` (event streams only). */
    queryToken?: boolean;
  }
}

/** The audit actions' first word, e.g. `deployment.active` → `deployment`, that are sent as events. */
const EVENT_KINDS = new Set(['release', 'deployment', 'approval', 'pin']);
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
const BATCH = 500;

interface Row { seq: number; at: string; actor: string; action: string; subject: string; details: Record<string, unknown> }

interface Client { last: number; res: ServerResponse; keepalive: NodeJS.Timeout }

/** One per database handle (so per process): polls the audit log while any client listens. */
class AuditFeed {
  private clients = new Set<Client>();
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(private db: Db) {}

  async add(res: ServerResponse, lastEventId: number | undefined): Promise<void> {
    const last = lastEventId ?? (await this.db.query<{ max: number | null }>('select max(seq)::int as max from audit_log'))[0].max ?? 0;
    if (res.destroyed || res.writableEnded) return;
    const client: Client = { last, res, keepalive: setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS) };
    this.clients.add(client);
    res.on('close', () => this.remove(client));
    this.timer ??= setInterval(() => void this.poll(), POLL_MS);
  }

  private remove(client: Client) {
    clearInterval(client.keepalive);
    this.clients.delete(client);
    if (!this.clients.size && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async poll() {
    if (this.polling || !this.clients.size) return;
    this.polling = true;
    try {
      const from = Math.min(...[...this.clients].map((c) => c.last));
      const rows = await this.db.query<Row>(
        'select seq::int as seq, at, actor, action, subject, details from audit_log where seq > $1 order by seq limit $2', [from, BATCH]);
      for (const client of this.clients) {
        for (const row of rows) {
          if (row.seq <= client.last) continue;
          client.last = row.seq;
          const kind = row.action.split('.')[0];
          if (!EVENT_KINDS.has(kind)) continue;
          const at = row.at as unknown;
          const data = JSON.stringify({ ...row, at: at instanceof Date ? at.toISOString() : at });
          client.res.write(`id: ${row.seq}\nevent: ${kind}\ndata: ${data}\n\n`);
        }
      }
    } catch {
      // the database is unreachable for now; the next tick tries again and clients miss nothing
    } finally {
      this.polling = false;
    }
  }

  close() {
    for (const client of [...this.clients]) {
      this.remove(client);
      client.res.end();
    }
  }
}

const feeds = new WeakMap<Db, AuditFeed>();

function feedFor(db: Db): AuditFeed {
  let feed = feeds.get(db);
  if (!feed) feeds.set(db, (feed = new AuditFeed(db)));
  return feed;
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
  const feed = feedFor(ctx.db);
  app.addHook('preClose', async () => feed.close());

  app.get('/events', {
    config: { queryToken: true },
    schema: {
      hide, tags: ['events'],
      summary: 'Server-sent events for release, deployment, approval and pin changes (read from the audit log). Accepts ?access_token= for EventSource clients',
      querystring: Type.Object({ access_token: Type.Optional(Type.String()) }),
      produces: ['text/event-stream'],
      response: { 200: { description: 'text/event-stream; each event has id = audit seq, event = release|deployment|approval|pin, data = the audit entry', content: { 'text/event-stream': { schema: Type.String() } } }, ...errorResponses },
    },
  }, async (req, reply) => {
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
  });
}
