/**
 * A fault-injecting HTTP proxy in front of a real registry. It is a fake in the sense of the
 * brief: nothing else makes a real registry hang or fail halfway through a push on demand.
 * Modes: `pass` forwards everything; `hang` accepts requests and never answers;
 * `fail-manifest-put` forwards blob traffic but answers 500 to manifest uploads.
 * `inject(fault)` (any mode): the next `count` requests matching `fault.match` get a 5xx or
 * 429 (with `Retry-After`), or have their connection dropped, before anything is forwarded;
 * `seen` counts the requests that reached the proxy by `METHOD kind` (kind: blobs, uploads,
 * manifests, other).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'pass' | 'hang' | 'fail-manifest-put';

/** One injected fault: what it does, to which requests, how many times. */
export interface Fault {
  /** `status`: answer it (500, 502, 503, 429…); `drop`: destroy the connection without an answer. */
  action: { status: number; retryAfter?: string } | 'drop';
  /** Which requests (default: all). */
  match?: (method: string, url: string) => boolean;
  /** How many of them (default 1). */
  count?: number;
}

const kindOf = (url: string) =>
  /\/blobs\/uploads\//.test(url) ? 'uploads' : /\/blobs\//.test(url) ? 'blobs' : /\/manifests\//.test(url) ? 'manifests' : 'other';

export interface FaultProxy {
  host: string;
  mode: FaultMode;
  /** Queues a fault; answers how many of its requests are still to come (read it after the traffic). */
  inject(fault: Fault): { left: () => number };
  /** Drops every fault still queued. */
  clear(): void;
  /** Requests seen, by `METHOD kind`. */
  seen: Map<string, number>;
  /** Faults injected that were served. */
  served: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [targetHost, targetPort] = target.split(':');
  const hanging = new Set<http.ServerResponse>();
  const faults: { fault: Fault; left: number }[] = [];
  const state: FaultProxy = {
    mode: 'pass' as FaultMode,
    host: '',
    seen: new Map(),
    served: 0,
    inject(fault) {
      const entry = { fault, left: fault.count ?? 1 };
      faults.push(entry);
      return { left: () => entry.left };
    },
    clear() {
      for (const f of faults) f.left = 0;
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
  const server = http.createServer((req, res) => {
    const key = `${req.method} ${kindOf(req.url ?? '')}`;
    state.seen.set(key, (state.seen.get(key) ?? 0) + 1);
    const due = faults.find((f) => f.left > 0 && (!f.fault.match || f.fault.match(req.method ?? '', req.url ?? '')));
    if (due) {
      due.left--;
      state.served++;
      req.resume();
      if (due.fault.action === 'drop') {
        req.socket.destroy();
        return;
      }
      const { status, retryAfter } = due.fault.action;
      res
        .writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) })
        .end(`{"errors":[{"code":"UNKNOWN","message":"injected ${status}"}]}`);
      return;
    }
    if (state.mode === 'hang') {
      hanging.add(res);
      return;
    }
    if (state.mode === 'fail-manifest-put' && req.method === 'PUT' && /\/manifests\//.test(req.url ?? '')) {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}');
      return;
    }
    const up = http.request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: { ...req.headers, host: target } },
      (r) => {
        const headers = { ...r.headers };
        if (typeof headers.location === 'string') headers.location = headers.location.replace(`//${target}`, `//${state.host}`);
        res.writeHead(r.statusCode ?? 502, headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
