/**
 * Release diff speed (issue #16 acceptance 4; issue #19 item 2), each figure beside a baseline
 * measured in the same run:
 *  - the semantic diff of two 500-object releases (Deployments, Services, ConfigMaps; a tenth
 *    changed, the rest reordered), end to end as the API runs it after the server's first diff:
 *    the layers handed to a kept worker thread, unpacked, parsed and diffed. p95 of 30 runs;
 *    target ≤ 300 ms. Baseline: the same round trip for two empty releases (the hand-over's cost).
 *  - the unified diff of two releases of 300 ConfigMaps × 40 keys (issue #19's 42 s case), in
 *    the worker: median of 5 runs against the same baseline.
 *
 *   node --import tsx bench/diff.ts
 */
import { performance } from 'node:perf_hooks';
import { buildResourcesLayer } from '../src/core/release-image.js';
import type { DiffJob } from '../src/services/diff-worker.js';
import { runDiffJob } from '../src/services/release-diff.js';
import { record } from './report.js';

type Obj = Record<string, unknown>;

function release(n: number, version: string, changedEvery: number): Obj[] {
  const out: Obj[] = [];
  for (let i = 0; i < n; i++) {
    const changed = i % changedEvery === 0 ? version : 'same';
    const kind = i % 3;
    if (kind === 0)
      out.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `svc-${i}`, labels: { 'app.kubernetes.io/name': `svc-${i}`, tier: 'back' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: `svc-${i}` } },
          template: {
            metadata: { labels: { app: `svc-${i}` } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: `registry.example.com/acme/svc-${i}:${changed}`,
                  ports: [{ name: 'http', containerPort: 8080 }],
                  env: Array.from({ length: 8 }, (_, k) => ({ name: `VAR_${k}`, value: `${changed}-${k}` })),
                  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
                },
              ],
            },
          },
        },
      });
    else if (kind === 1)
      out.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${i}`, namespace: 'shop' },
        spec: { selector: { app: `svc-${i}` }, ports: [{ name: 'http', port: 80, targetPort: changed === 'same' ? 8080 : 9090 }] },
      });
    else
      out.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cfg-${i}` },
        data: Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`key-${k}`, `${changed}-${k}-${'v'.repeat(30)}`])),
      });
  }
  return version === 'b' ? out.reverse() : out;
}

const configMaps = (n: number, keys: number, value: string): Obj[] =>
  Array.from({ length: n }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}` },
    data: Object.fromEntries(Array.from({ length: keys }, (_, k) => [`key-${k}`, `${value}-${k}`])),
  }));

/** Layers are built once; each run gets its own copy (a job's layers move to its thread). */
function jobOf(a: Obj[], b: Obj[], format: DiffJob['format']): () => DiffJob {
  const la = buildResourcesLayer(a).blob;
  const lb = buildResourcesLayer(b).blob;
  const side = (n: number, blob: typeof la) => ({
    release_number: n,
    commit_sha: String(n).repeat(40),
    layer: new Uint8Array(blob.bytes),
    mediaType: blob.mediaType,
  });
  return () => ({ format, from: side(1, la), to: side(2, lb) });
}

async function times(n: number, job: () => DiffJob): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = job();
    const t0 = performance.now();
    await runDiffJob(j);
    out.push(performance.now() - t0);
  }
  return out.sort((x, y) => x - y);
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

const empty = jobOf([], [], 'semantic');
const big = jobOf(release(500, 'a', 10), release(500, 'b', 10), 'semantic');
const wide = jobOf(configMaps(300, 40, 'a'), configMaps(300, 40, 'b'), 'unified');
await times(3, big); // the server's first diffs: threads started and kept

const baseline = await times(30, empty);
const semantic = await times(30, big);
const unified = await times(5, wide);
const changed = (await runDiffJob(big())).semantic!.changed.length;

console.log(`empty diff (hand-over to a kept thread): p50 ${pct(baseline, 50).toFixed(1)} ms, p95 ${pct(baseline, 95).toFixed(1)} ms`);
console.log(
  `500-object semantic diff (${changed} objects changed): p50 ${pct(semantic, 50).toFixed(1)} ms, p95 ${pct(semantic, 95).toFixed(1)} ms`,
);
console.log(`300 × 40 unified diff: median ${pct(unified, 50).toFixed(1)} ms`);

record({
  figure: 'diff: 500-object releases, semantic, p95',
  value: pct(semantic, 95),
  unit: 'ms',
  baseline: pct(baseline, 95),
  target: '≤ 300 ms',
  met: pct(semantic, 95) <= 300,
});
record({
  figure: 'diff: 300 ConfigMaps × 40 keys, unified, median',
  value: pct(unified, 50),
  unit: 'ms',
  baseline: pct(baseline, 50),
  target: 'within the 30 s limit',
  met: pct(unified, 50) < 30_000,
});
