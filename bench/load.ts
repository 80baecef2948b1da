/** A small closed-loop HTTP load generator for the benchmarks: N workers, keep-alive, latency percentiles. */
import http from 'node:http';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

export function summarize(latencies: number[], seconds: number, errors: number): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors,
  };
}

/** Sends `next()`'s requests from `concurrency` workers for `seconds` (or until `total` requests). */
export async function load(opts: {
  url: string;
  concurrency: number;
  seconds?: number;
  total?: number;
  next: (i: number) => { method: string; path: string; body?: string; headers?: Record<string, string> };
  ok?: (status: number) => boolean;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const base = new URL(opts.url);
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const deadline = opts.seconds ? performance.now() + opts.seconds * 1000 : Infinity;
  const ok = opts.ok ?? ((s) => s < 400);
  const one = (req: ReturnType<typeof opts.next>) =>
    new Promise<number>((resolve, reject) => {
      const r = http.request(
        {
          host: base.hostname,
          port: base.port,
          method: req.method,
          path: req.path,
          agent,
          headers: { ...(req.body ? { 'content-type': 'application/json' } : {}), ...req.headers },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      r.on('error', reject);
      r.end(req.body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (performance.now() < deadline && (opts.total === undefined || issued < opts.total)) {
        const req = opts.next(issued++);
        const t0 = performance.now();
        const status = await one(req).catch(() => 0);
        latencies.push(performance.now() - t0);
        if (!ok(status)) errors++;
      }
    }),
  );
  agent.destroy();
  return summarize(latencies, (performance.now() - started) / 1000, errors);
}

export function printTable(rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(2)) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  for (const r of cells) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
}
