/**
 * A registry that does not play by the rules, for the tests of what Forge takes from one
 * (issue 19 item 4): a plain HTTP server on a loopback address whose every answer the test
 * writes, recording each request (with its headers) and how many body bytes each answer sent
 * before the client hung up. A real registry cannot be made to stream an endless manifest, name
 * a foreign token realm or redirect a blob elsewhere; this one can.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  method: string;
  path: string;
  authorization?: string;
}

export interface Hostile {
  /** `127.0.0.x:port` */
  host: string;
  url: string;
  hits: Hit[];
  /** Body bytes written per request path, counted until the client closed the connection or the answer ended. */
  sent: Map<string, number>;
  /** Resolves when every answer in flight has ended or been closed by the client. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, hostile: Hostile) => void;

export async function startHostile(handler: Handler, address = '127.0.0.1'): Promise<Hostile> {
  const inFlight = new Set<Promise<void>>();
  const hostile = {
    hits: [] as Hit[],
    sent: new Map<string, number>(),
  } as Hostile;
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    hostile.hits.push({ method: req.method ?? 'GET', path, authorization: req.headers.authorization });
    const done = new Promise<void>((resolve) => res.on('close', () => resolve()));
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
    handler(req, res, hostile);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  hostile.host = `${address}:${port}`;
  hostile.url = `http://${address}:${port}`;
  hostile.settled = async () => {
    while (inFlight.size) await Promise.all([...inFlight]);
  };
  hostile.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return hostile;
}

/**
 * Streams `byte` without a Content-Length (chunked) until `cap` bytes or until the client goes
 * away, honouring back-pressure; counts what it wrote in `hostile.sent` under the request path.
 * `headers` may add a Content-Length that is honest (then the stream ends at it) or not.
 */
export function stream(res: ServerResponse, hostile: Hostile, path: string, cap: number, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers });
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  hostile.sent.set(path, 0);
  const pump = () => {
    while (!res.destroyed) {
      const sent = hostile.sent.get(path)!;
      if (sent >= cap) {
        res.end();
        return;
      }
      const part = chunk.subarray(0, Math.min(chunk.length, cap - sent));
      hostile.sent.set(path, sent + part.length);
      if (!res.write(part)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  res.on('error', () => {});
  pump();
}
