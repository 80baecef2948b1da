/**
 * Outgoing HTTP exchanges over Node's own `http`/`https` modules with keep-alive connections
 * (issue 18: registration at registry speed, plugin cold start). Node's `fetch` (undici) cost
 * about 40% of a registration's CPU in the server, and loading it about 40 ms of every plugin
 * start; this client does only what the registry client needs: one request, its status and
 * headers, the body as a stream. Redirects are not followed (the caller decides where its
 * credentials may go); the body is read through src/http/response-body.ts, capped.
 */
import { Agent, type IncomingMessage, request as plainRequest } from 'node:http';
import type * as Https from 'node:https';
import { createRequire } from 'node:module';
import type { HttpAnswer } from './response-body.js';

/** `node:https` (with TLS) is loaded when the first https request is sent. */
let https: typeof Https | undefined;
const httpsModule = () => (https ??= createRequire(import.meta.url)('node:https') as typeof Https);

/** An answer whose body is at most this long is drained when discarded (its connection is reused); a longer one is dropped. */
const DRAIN_MAX_BYTES = 64 * 1024;

/** One answer: status, headers (`get` as the fetch API's, lower or any case), the body as Node's stream. */
export class NodeHttpAnswer implements HttpAnswer {
  readonly status: number;
  readonly headers: { get(name: string): string | null };

  constructor(readonly body: IncomingMessage) {
    this.status = body.statusCode ?? 0;
    const raw = body.headers;
    this.headers = {
      get(name: string) {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
  }

  /** Drops the rest of the body: a short one is read to the end, so that its connection serves the next request; a long one closes it. */
  discard(): void {
    // the connection is handed back to the pool at the body's end, which only a read reaches
    const length = Number(this.body.headers['content-length'] ?? Number.NaN);
    if (this.body.complete || (Number.isFinite(length) && length <= DRAIN_MAX_BYTES)) this.body.resume();
    else this.body.destroy();
  }
}

/** Keep-alive connection pools for one client (one per registry store): free connections do not hold the process open. */
export class ConnectionPools {
  private readonly plain = new Agent({ keepAlive: true });
  private secure: Https.Agent | undefined;

  agentFor(url: URL): Agent {
    if (url.protocol === 'https:') return (this.secure ??= new (httpsModule().Agent)({ keepAlive: true }));
    return this.plain;
  }

  /** Closes every connection (a store that is no longer used). */
  destroy(): void {
    this.plain.destroy();
    this.secure?.destroy();
  }
}

export interface SendOptions {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Aborts the exchange, the body's read included (an AbortError). */
  signal: AbortSignal;
}

/**
 * Sends one request to `url` (http or https) and resolves with the answer once its headers have
 * come; rejects on a refused or dropped connection or when `signal` aborts. The body is sent with
 * its Content-Length.
 */
export function send(url: URL, pools: ConnectionPools, o: SendOptions): Promise<NodeHttpAnswer> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}; expected http or https`));
  const request = url.protocol === 'https:' ? httpsModule().request : plainRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method, headers: o.headers, agent: pools.agentFor(url), signal: o.signal }, (res) =>
      resolve(new NodeHttpAnswer(res)),
    );
    req.on('error', reject);
    req.end(o.body);
  });
}
