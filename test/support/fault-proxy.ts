/**
 * A fault-injecting HTTP proxy in front of a real registry. It is a fake in the sense of the
 * brief: nothing else makes a real registry hang or fail halfway through a push on demand.
 * Modes: `pass` forwards everything; `hang` accepts requests and never answers;
 * `fail-manifest-put` forwards blob traffic but answers 500 to manifest uploads.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'pass' | 'hang' | 'fail-manifest-put';

export async function startFaultProxy(target: string): Promise<{ host: string; mode: FaultMode; close(): Promise<void> }> {
  const [targetHost, targetPort] = target.split(':');
  const hanging = new Set<http.ServerResponse>();
  const state = {
    mode: 'pass' as FaultMode,
    host: '',
    close: () =>
      new Promise<void>((ok) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
  const server = http.createServer((req, res) => {
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
