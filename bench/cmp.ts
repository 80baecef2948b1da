/**
 * bench/cmp: `forge-cmp generate` (the published bin: the bundle scripts/bundle-cmp.mjs builds,
 * as `npm run build` does; run as Argo CD runs it, a new process in the pointer folder) for a
 * release of 200 resources registered by a real Forge server in a docker-registry on loopback,
 * cold (empty cache) and warm, beside the baseline of `skopeo copy` of the same image to an OCI
 * layout plus `tar -x` of its resources layer, measured in the same run.
 *
 * Targets (issue 18 acceptance 4; docs/decisions.md "Plugin start"): cold ≤ 1.5× the baseline;
 * warm: what generate adds to a bare Node start ≤ 50 ms, that is the p50 over runs of (warm
 * wall − wall of `node -e 0` run right after it), because a new Node process alone takes
 * 40–90 ms on this machine. The raw warm wall time is printed beside it.
 *   npx tsx bench/cmp.ts [--runs 15] [--resources 200]
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { argoEnv, pointerFor, writePointer } from '../test/support/cmp.js';
import { REPO_ROOT, releaseBody, startForge, tempDir } from '../test/support/forge.js';
import { startRegistry } from '../test/support/registry.js';
import { benchArgs } from './args.js';
import { printTable } from './load.js';
import { record } from './report.js';

const run = promisify(execFile);
const { values } = benchArgs(import.meta.url, {
  options: { runs: { type: 'string', default: '15' }, resources: { type: 'string', default: '200' } },
});
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
// Built like the published bin (npm run build: scripts/bundle-cmp.mjs), into a folder of its own.
const out = join(REPO_ROOT, 'node_modules', '.cache', 'forge-bench-cmp');
rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/bundle-cmp.mjs'), out], { stdio: 'inherit' });
const plugin = join(out, 'main.js');

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
  // The server signs each release with <data dir>/signing-key.pem; deploy/argocd verifies every render.
  const publicKey = join(forge.dataDir, 'signing-key.pem.pub');
  const env = (cacheDir: string, verify = false) => ({
    PATH: process.env.PATH!,
    HOME: work,
    ...argoEnv(sourcePath, {
      FORGE_REGISTRY: `${registry.host}/forge`,
      FORGE_CMP_CACHE_DIR: cacheDir,
      ...(verify ? { FORGE_SIGNING_PUBLIC_KEY_FILE: publicKey } : {}),
    }),
  });
  const generate = (cacheDir: string, verify = false) =>
    run(process.execPath, [plugin, 'generate'], { cwd: dir, env: env(cacheDir, verify), maxBuffer: 64 << 20 });
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
  /** `node -e 0` right after each warm run, and the warm run's wall minus it. */
  const bare: number[] = [];
  const added: number[] = [];
  const cpuOf = { baseline: [] as number[], cold: [] as number[], warm: [] as number[], bare: [] as number[] };
  const warmCache = join(work, 'warm-cache');
  await generate(warmCache);
  const signedCache = join(work, 'signed-cache');
  const signedCheck = await generate(signedCache, true);
  if (!signedCheck.stderr.includes('(signature verified)')) throw new Error(`expected a verified render: ${signedCheck.stderr}`);
  /** Warm with the signature verified (as deploy/argocd runs it), minus the same `node -e 0`. */
  const signedAdded: number[] = [];
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
    bare.push(await time(() => run(process.execPath, ['-e', '0'])));
    added.push(warm.at(-1)! - bare.at(-1)!);
    signedAdded.push((await time(() => generate(signedCache, true))) - bare.at(-1)!);

    const cpuTarget = join(work, `baseline-cpu-${i}`);
    mkdirSync(join(cpuTarget, 'files'), { recursive: true });
    cpuOf.baseline.push((await cpu('skopeo', skopeoArgs(cpuTarget))) + (await cpu('tar', tarArgs(cpuTarget))));
    cpuOf.cold.push(await cpu(process.execPath, [plugin, 'generate'], { cwd: dir, env: env(join(work, `cold-cpu-${i}`)) }));
    cpuOf.warm.push(await cpu(process.execPath, [plugin, 'generate'], { cwd: dir, env: env(warmCache) }));
    cpuOf.bare.push(await cpu(process.execPath, ['-e', '0']));
  }
  const b = stats(baseline);
  const c = stats(cold);
  const w = stats(warm);
  const n = stats(bare);
  const a = stats(added);
  const sa = stats(signedAdded);
  console.log(
    `\nforge-cmp generate, release of ${count} resources (${check.stdout.length} bytes of YAML), ${runs} runs each, registry on loopback\n`,
  );
  const [bc, cc, wc, nc] = [stats(cpuOf.baseline).p50, stats(cpuOf.cold).p50, stats(cpuOf.warm).p50, stats(cpuOf.bare).p50];
  record({
    figure: `cmp: generate cold, ${count} resources (p50)`,
    value: c.p50,
    unit: 'ms',
    baseline: b.p50,
    target: '<= 1.5x skopeo copy + tar',
    met: c.p50 <= 1.5 * b.p50,
  });
  record({
    figure: `cmp: generate warm, ${count} resources, added to a bare node start (p50 of warm − node -e 0)`,
    value: a.p50,
    unit: 'ms',
    baseline: n.p50,
    target: '<= 50 ms added',
    met: a.p50 <= 50,
  });
  record({
    figure: `cmp: generate warm, ${count} resources, signature verified, added to a bare node start (p50)`,
    value: sa.p50,
    unit: 'ms',
    baseline: n.p50,
    target: 'informative (deploy/argocd verifies every render)',
    met: true,
  });
  record({
    figure: `cmp: generate warm, ${count} resources, raw wall (p50)`,
    value: w.p50,
    unit: 'ms',
    baseline: n.p50,
    target: 'informative (node -e 0 is the baseline)',
    met: true,
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
    ['forge-cmp generate, warm (raw wall)', w.p50, w.min, w.max, (w.p50 / b.p50).toFixed(2), wc, (wc / bc).toFixed(2), '-', '-'],
    ['node -e 0 (after each warm run)', n.p50, n.min, n.max, (n.p50 / b.p50).toFixed(2), nc, (nc / bc).toFixed(2), '-', '-'],
    ['warm − node -e 0 (per run)', a.p50, a.min, a.max, '-', '-', '-', '<= 50 ms', a.p50 <= 50 ? 'yes' : 'NO'],
    ['warm, signature verified − node -e 0', sa.p50, sa.min, sa.max, '-', '-', '-', '(informative)', '-'],
    ['warm CPU − node -e 0 CPU (p50s)', '-', '-', '-', '-', wc - nc, '-', '(informative)', '-'],
  ]);
} finally {
  await forge.stop();
  await registry.destroy();
  rmSync(work, { recursive: true, force: true });
}
