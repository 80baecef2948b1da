/**
 * bench/cmp: `forge-cmp generate` (the compiled plugin, as Argo CD runs it: a new process in the
 * pointer folder) for a release of 200 resources registered by a real Forge server in a
 * docker-registry on loopback, cold (empty cache) and warm, beside the baseline of
 * `skopeo copy` of the same image to an OCI layout plus `tar -x` of its resources layer,
 * measured in the same run. Targets: cold ≤ 1.5× the baseline, warm ≤ 150 ms wall.
 *   npx tsx bench/cmp.ts [--runs 15] [--resources 200]
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { argoEnv, pointerFor, writePointer } from '../test/support/cmp.js';
import { REPO_ROOT, releaseBody, startForge, tempDir } from '../test/support/forge.js';
import { startRegistry } from '../test/support/registry.js';
import { printTable } from './load.js';
import { record } from './report.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, resources: { type: 'string', default: '200' } } });
const runs = Number(values.runs);
const count = Number(values.resources);

function resources(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) =>
    i % 2
      ? {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `config-${i}`, namespace: 'bench', labels: { app: 'bench', index: String(i) } },
          data: { 'settings.yaml': `replicas: ${i}\nregion: eu-west-1\nfeature_flags: [a, b, c]\n`, note: 'x'.repeat(200) },
        }
      : {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `svc-${i}`, namespace: 'bench', labels: { app: `svc-${i}` } },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: `svc-${i}` } },
            template: {
              metadata: { labels: { app: `svc-${i}` } },
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: `registry.example.com/svc-${i}@sha256:${'ab'.repeat(32)}`,
                    ports: [{ containerPort: 8080 }],
                    env: [{ name: 'INDEX', value: String(i) }],
                    resources: { requests: { cpu: '100m', memory: '128Mi' } },
                  },
                ],
              },
            },
          },
        },
  );
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Runs a command under /usr/bin/time; returns its CPU time (user + system), ms: less sensitive than wall time to a busy machine. */
async function cpu(cmd: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<number> {
  const file = join(work, `time-${Math.random().toString(36).slice(2)}`);
  await run('/usr/bin/time', ['-f', '%U %S', '-o', file, cmd, ...args], { ...o, maxBuffer: 64 << 20 });
  const [user, sys] = readFileSync(file, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return (user! + sys!) * 1000;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
};

const work = tempDir('forge-bench-cmp-');
// Compiled like the published bin; under node_modules so the output resolves the package's dependencies.
const out = join(REPO_ROOT, 'node_modules', '.cache', 'forge-bench-cmp');
rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    join(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
    join(REPO_ROOT, 'src/cmp/main.ts'),
    '--outDir',
    out,
    '--rootDir',
    REPO_ROOT,
    '--module',
    'NodeNext',
    '--moduleResolution',
    'NodeNext',
    '--target',
    'ES2022',
    '--strict',
    '--skipLibCheck',
    '--types',
    'node',
  ],
  { stdio: 'inherit' },
);
const plugin = join(out, 'src/cmp/main.js');

const registry = await startRegistry();
const forge = await startForge({ registry: `${registry.host}/forge` });
try {
  const sha = 'b'.repeat(40);
  const created = await forge.api(
    'POST',
    '/releases',
    releaseBody({ resources: resources(count) }, sha),
    await forge.token(['service-account']),
  );
  if (created.status !== 201) throw new Error(`release not created: ${created.text}`);
  const digest: string = created.body.oci_digest;
  const resourcesHex = (created.body.resources_digest as string).slice('sha256:'.length);
  const { dir, sourcePath } = writePointer(work, pointerFor({ release: sha, digest }));
  const env = (cacheDir: string) => ({
    PATH: process.env.PATH!,
    HOME: work,
    ...argoEnv(sourcePath, { FORGE_REGISTRY: `${registry.host}/forge`, FORGE_CMP_CACHE_DIR: cacheDir }),
  });
  const generate = (cacheDir: string) => run(process.execPath, [plugin, 'generate'], { cwd: dir, env: env(cacheDir), maxBuffer: 64 << 20 });
  const skopeoArgs = (target: string) => [
    'copy',
    '--quiet',
    '--insecure-policy',
    '--src-tls-verify=false',
    `docker://${registry.host}/forge/acme/mono/auth-service@${digest}`,
    `oci:${join(target, 'layout')}:bench`,
  ];
  const tarArgs = (target: string) => ['-xf', join(target, 'layout', 'blobs', 'sha256', resourcesHex), '-C', join(target, 'files')];

  const check = await generate(join(work, 'check-cache'));
  const docs = check.stdout.split(/^---$/m).length - 1;
  if (docs !== count) throw new Error(`expected ${count} documents, got ${docs}`);

  const baseline: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  const cpuOf = { baseline: [] as number[], cold: [] as number[], warm: [] as number[] };
  const warmCache = join(work, 'warm-cache');
  await generate(warmCache);
  // Interleaved, so drift on the machine affects all three alike; then once more each under /usr/bin/time for CPU.
  for (let i = 0; i < runs; i++) {
    const target = join(work, `baseline-${i}`);
    mkdirSync(join(target, 'files'), { recursive: true });
    baseline.push(
      await time(async () => {
        await run('skopeo', skopeoArgs(target));
        await run('tar', tarArgs(target));
      }),
    );
    cold.push(await time(() => generate(join(work, `cold-cache-${i}`))));
    warm.push(await time(() => generate(warmCache)));

    const cpuTarget = join(work, `baseline-cpu-${i}`);
    mkdirSync(join(cpuTarget, 'files'), { recursive: true });
    cpuOf.baseline.push((await cpu('skopeo', skopeoArgs(cpuTarget))) + (await cpu('tar', tarArgs(cpuTarget))));
    cpuOf.cold.push(await cpu(process.execPath, [plugin, 'generate'], { cwd: dir, env: env(join(work, `cold-cpu-${i}`)) }));
    cpuOf.warm.push(await cpu(process.execPath, [plugin, 'generate'], { cwd: dir, env: env(warmCache) }));
  }
  const b = stats(baseline);
  const c = stats(cold);
  const w = stats(warm);
  console.log(
    `\nforge-cmp generate, release of ${count} resources (${check.stdout.length} bytes of YAML), ${runs} runs each, registry on loopback\n`,
  );
  const [bc, cc, wc] = [stats(cpuOf.baseline).p50, stats(cpuOf.cold).p50, stats(cpuOf.warm).p50];
  record({
    figure: `cmp: generate cold, ${count} resources (p50)`,
    value: c.p50,
    unit: 'ms',
    baseline: b.p50,
    target: '<= 1.5x skopeo copy + tar',
    met: c.p50 <= 1.5 * b.p50,
  });
  record({
    figure: `cmp: generate warm, ${count} resources (p50)`,
    value: w.p50,
    unit: 'ms',
    baseline: b.p50,
    target: '<= 150 ms',
    met: w.p50 <= 150,
  });
  printTable([
    ['figure', 'p50 ms', 'min ms', 'max ms', 'p50 vs baseline', 'CPU ms p50', 'CPU vs baseline', 'target', 'met (p50 wall)'],
    ['baseline: skopeo copy + tar -x', b.p50, b.min, b.max, '1.00', bc, '1.00', '-', '-'],
    [
      'forge-cmp generate, cold',
      c.p50,
      c.min,
      c.max,
      (c.p50 / b.p50).toFixed(2),
      cc,
      (cc / bc).toFixed(2),
      '<= 1.5x baseline',
      c.p50 <= 1.5 * b.p50 ? 'yes' : 'NO',
    ],
    [
      'forge-cmp generate, warm',
      w.p50,
      w.min,
      w.max,
      (w.p50 / b.p50).toFixed(2),
      wc,
      (wc / bc).toFixed(2),
      '<= 150 ms',
      w.p50 <= 150 ? 'yes' : 'NO',
    ],
  ]);
  const nodeOnly = await time(() => run(process.execPath, ['-e', '0']));
  console.log(`\n(node -e 0 alone: ${nodeOnly.toFixed(1)} ms on this machine)`);
} finally {
  await forge.stop();
  await registry.destroy();
  rmSync(work, { recursive: true, force: true });
}
