/**
 * The event stream's source (GET /events, DESIGN.md §10): release, deployment, approval and
 * pin changes, read from the audit log, which every replica writes in one database (§11, §12),
 * so a change made through any replica reaches the clients of every replica. One feed per
 * database handle (so per process) reads new entries (by `seq`) about once a second while
 * clients listen, with the same query as the webhook fan-out (store/audit.ts `auditAfter`).
 *
 * Each event's id is the audit entry's `seq`, so a reconnecting EventSource (Last-Event-ID)
 * gets what it missed.
 */
import type { ServerResponse } from 'node:http';
import { EVENT_KINDS } from '../contract/index.js';
import { auditAfter, latestAuditSeq } from '../store/audit.js';
import type { Db } from '../store/db.js';

const KINDS: ReadonlySet<string> = new Set(EVENT_KINDS);
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
const BATCH = 500;

interface Client {
  last: number;
  res: ServerResponse;
  keepalive: NodeJS.Timeout;
}

/** Polls the audit log while any client listens and writes each event entry to every client that has not had it. */
export class AuditFeed {
  private clients = new Set<Client>();
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(private db: Db) {}

  /**
   * Adds a client (an open text/event-stream response): it gets the entries after
   * `lastEventId`, or from now on when there is none. Keeps the connection alive with a comment
   * every 15 s; the client leaves when the response closes.
   */
  async add(res: ServerResponse, lastEventId: number | undefined): Promise<void> {
    const last = lastEventId ?? (await latestAuditSeq(this.db));
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
      const entries = await auditAfter(this.db, from, BATCH);
      for (const client of this.clients) {
        for (const { seq, at, actor, action, subject, details } of entries) {
          if (seq <= client.last) continue;
          client.last = seq;
          const kind = action.split('.')[0];
          if (!KINDS.has(kind)) continue;
          const data = JSON.stringify({ seq, at, actor, action, subject, details });
          client.res.write(`id: ${seq}\nevent: ${kind}\ndata: ${data}\n\n`);
        }
      }
    } catch {
      // the database is unreachable for now; the next tick tries again and clients miss nothing
    } finally {
      this.polling = false;
    }
  }

  /** Ends every client's stream (the server is closing). */
  close() {
    for (const client of [...this.clients]) {
      this.remove(client);
      client.res.end();
    }
  }
}

const feeds = new WeakMap<Db, AuditFeed>();

/** The feed of this database handle, made on first use. */
export function auditFeedFor(db: Db): AuditFeed {
  let feed = feeds.get(db);
  if (!feed) feeds.set(db, (feed = new AuditFeed(db)));
  return feed;
}
