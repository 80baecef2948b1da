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

/** Idle keep-alive connections are closed after this long (ms), so redirect targets that never close theirs cost nothing for ever. */
const IDLE_CLOSE_MS = 30_000;

/** One answer: status, headers (`get` as the fetch API's, lower or any case), the body as Node's stream. */
export class NodeHttpAnswer implements HttpAnswer {
  readonly status: number;
  readonly headers: { get(name: string): string | null };

  constructor(
    readonly body: IncomingMessage,
    /** The exchange's signal: aborted means it ran out of time (a body that stalled, too). */
    readonly signal: AbortSignal,
  ) {
    this.status = body.statusCode ?? 0;
    const raw = body.headers;
    this.headers = {
      get(name: string) {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
  }

  /**
   * Drops the rest of the body. One that has all come (an empty or short answer, usually) is read
   * to its end, which hands the connection back to the pool; otherwise the connection is closed,
   * so a body that stalls holds nothing open.
   */
  discard(): void {
    if (this.body.complete) this.body.resume();
    else this.body.destroy();
  }
}

/** Keep-alive connection pools for one client (one per registry store): free connections do not hold the process open. */
export class ConnectionPools {
  private readonly plain = new Agent({ keepAlive: true, timeout: IDLE_CLOSE_MS });
  private secure: Https.Agent | undefined;

  agentFor(url: URL): Agent {
    if (url.protocol === 'https:') return (this.secure ??= new (httpsModule().Agent)({ keepAlive: true, timeout: IDLE_CLOSE_MS }));
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
      resolve(new NodeHttpAnswer(res, o.signal)),
    );
    req.on('error', reject);
    req.end(o.body);
  });
}
