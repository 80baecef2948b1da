/**
 * bench/healthz: how fast a server answers `/healthz` while heavy work runs (issue #19 item 2):
 * registrations of 300 ConfigMaps × 1,000 keys (9.9 MB bodies, the 9.6 MB case) and
 * semantic diffs of two releases of 300 ConfigMaps × 40 keys (the 42 s case), each sent
 * again as soon as it answers, two of each at a time. The figure is the p99 of `/healthz`
 * meanwhile; the baseline is its p99 on the same server idle, measured in the same run.
 * Target: p99 ≤ 100 ms. The server runs in this process (a spawned one may take over a minute
 * to start on a loaded machine); the client's part on the same event loop is small (one string
 * replace per 10 MB body). Figures are printed, never asserted (the test is test/heavy-work.test.ts).
 *   node --import tsx bench/healthz.ts [--seconds 20]
 */
import { releaseBody, sha, startForge } from '../test/support/forge.js';
import { benchArgs } from './args.js';
import { printTable } from './load.js';
import { record } from './report.js';

const { values } = benchArgs(import.meta.url, { options: { seconds: { type: 'string', default: '20' } } });
const seconds = Number(values.seconds);

const configMaps = (n: number, keys: number, value: string) =>
  Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}` },
    data: Object.fromEntries(Array.from({ length: keys }, (_, k) => [`key-${k}`, `${value}-${k}-xxxxxxxxxxxxxxx`])),
  }));

const forge = await startForge();
const ci = await forge.token(['service-account'], 'ci@example.com');
const dev = await forge.token(['developer'], 'dev@example.com');
const project = 'heavy-svc';
for (const [n, value] of [
  [1, 'a'],
  [2, 'b'],
] as const) {
  const res = await forge.api('POST', '/releases', releaseBody({ project, resources: configMaps(300, 40, value) }, sha(n)), ci);
  if (res.status !== 201) throw new Error(`seeding release ${n} failed: ${res.status} ${res.text}`);
}

const p = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** `/healthz` latencies (ms), one request after another with 20 ms between, until `stop()` is true. */
async function probe(stop: () => boolean): Promise<number[]> {
  const out: number[] = [];
  while (!stop()) {
    const t0 = performance.now();
    const res = await fetch(`${forge.url}/healthz`);
    await res.arrayBuffer();
    out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  return out.sort((a, b) => a - b);
}

let deadline = performance.now() + 5000;
const idle = await probe(() => performance.now() > deadline);

// the heavy traffic: 2 registrations and 2 diffs in flight at all times
const body = JSON.stringify(releaseBody({ project, resources: configMaps(300, 1000, 'c') }, sha(3)));
const counts = { registrations: 0, diffs: 0, busy: 0, errors: 0 };
deadline = performance.now() + seconds * 1000;
let next = 1000;
const heavy = async (kind: 'registrations' | 'diffs') => {
  while (performance.now() < deadline) {
    const res =
      kind === 'registrations'
        ? await fetch(`${forge.url}/api/v1/releases`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${ci}` },
            // a new commit each time, so each is packed and pushed in full
            body: body.replace(sha(3), sha(next++)),
          })
        : await fetch(`${forge.url}/api/v1/releases/acme/mono/${project}/1/diff/2?format=semantic`, {
            headers: { authorization: `Bearer ${dev}` },
          });
    await res.arrayBuffer();
    if (res.status === 503) counts.busy++;
    else if (res.status >= 400) counts.errors++;
    else counts[kind]++;
  }
};
const load = Promise.all([heavy('registrations'), heavy('registrations'), heavy('diffs'), heavy('diffs')]);
// the first heavy bodies are on their way before measuring
await new Promise((r) => setTimeout(r, 500));
const busy = await probe(() => performance.now() > deadline);
await load;
await forge.stop();

const idleP99 = p(idle, 0.99);
const busyP99 = p(busy, 0.99);
record({
  figure: '/healthz p99 while heavy registrations and diffs run',
  value: busyP99,
  unit: 'ms',
  baseline: idleP99,
  target: '<= 100 ms',
  met: busyP99 <= 100,
});
printTable([
  ['/healthz', 'requests', 'p50 ms', 'p99 ms', 'max ms'],
  ['idle server', idle.length, p(idle, 0.5).toFixed(1), idleP99.toFixed(1), (idle.at(-1) ?? 0).toFixed(1)],
  ['heavy work running', busy.length, p(busy, 0.5).toFixed(1), busyP99.toFixed(1), (busy.at(-1) ?? 0).toFixed(1)],
]);
console.log(
  `heavy work in ${seconds} s: ${counts.registrations} registrations of ${(body.length / 1e6).toFixed(1)} MB, ${counts.diffs} diffs of 300 ConfigMaps × 40 keys, ${counts.busy} refused 503 server_busy, ${counts.errors} other errors`,
);
