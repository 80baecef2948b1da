/**
 * bench/metrics: what a Prometheus scrape of /metrics costs, beside /healthz (the cheapest
 * route) measured in the same run on the same server. test/metrics.test.ts checks what the
 * answer holds; its speed is measured here. Target: p99 under 50 ms.
 *   npx tsx bench/metrics.ts [--requests 300] [--releases 20]
 */
import { releaseBody, sha, startForge } from '../test/support/forge.js';
import { benchArgs } from './args.js';
import { printTable } from './load.js';
import { record } from './report.js';

const { values } = benchArgs(import.meta.url, {
  options: { requests: { type: 'string', default: '300' }, releases: { type: 'string', default: '20' } },
});
const requests = Number(values.requests);

const forge = await startForge();
try {
  // Some traffic first, so that the histograms and counters have series to print.
  const ci = await forge.token(['service-account']);
  for (let i = 1; i <= Number(values.releases); i++) {
    const res = await forge.api('POST', '/releases', releaseBody({ project: `p${i % 5}` }, sha(i)), ci);
    if (res.status !== 201) throw new Error(`release ${i}: ${res.status} ${res.text}`);
  }
  /** p50 and p99 milliseconds of `requests` sequential GETs of `path`, after a warm-up of 20. */
  const measure = async (path: string) => {
    const times: number[] = [];
    for (let i = 0; i < requests + 20; i++) {
      const t0 = performance.now();
      const res = await forge.api('GET', path);
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      if (i >= 20) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)] };
  };
  const base = await measure('/healthz');
  const scrape = await measure('/metrics');
  record({
    figure: 'metrics: GET /metrics p99',
    value: scrape.p99,
    unit: 'ms',
    baseline: base.p99,
    target: '< 50 ms',
    met: scrape.p99 < 50,
  });
  printTable([
    ['route', 'p50 ms', 'p99 ms', 'p99 vs /healthz', 'target'],
    ['GET /healthz', base.p50.toFixed(2), base.p99.toFixed(2), '1.00', '-'],
    ['GET /metrics', scrape.p50.toFixed(2), scrape.p99.toFixed(2), (scrape.p99 / base.p99).toFixed(2), 'p99 < 50 ms'],
  ]);
} finally {
  await forge.stop();
}
