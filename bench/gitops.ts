/**
 * GitOps writer figures (issue 4): a GitOps repository with 10,000 pointer files.
 *  - one deployment's latency (p50/p99): the writer alone, and the whole deployment (policy,
 *    pending row, pointer commit, push, recording) on PGlite — beside a plain `git commit` +
 *    `git push` of one file from a checkout of the same repository, in the same run, samples
 *    interleaved (each pushes to its own copy of the repository);
 *  - the throughput of 20, then 100, concurrent deployments of different projects.
 * Run: node --import tsx bench/gitops.ts [--files 10000] [--samples 50] [--concurrent 100]
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pointerPath, renderPointer } from '../src/core/pointer.js';
import { resolveRemote } from '../src/gitops/remote.js';
import { GitOpsWriter } from '../src/gitops/writer.js';
import { requestDeployment } from '../src/services/deploy.js';
import { benchArgs } from './args.js';
import { benchDeployments } from './deployments.js';
import { record } from './report.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    files: { type: 'string', default: '10000' },
    samples: { type: 'string', default: '50' },
    concurrent: { type: 'string', default: '100' },
  },
});
const FILES = Number(values.files);
const SAMPLES = Number(values.samples);
const CONCURRENT = Number(values.concurrent);
const ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@x' };
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

const root = mkdtempSync(join(tmpdir(), 'forge-bench-gitops-'));
const remote = join(root, 'remote.git');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms  p99 ${pct(xs, 99).toFixed(1)} ms  (n=${xs.length})`;
const sha = (s: string) => createHash('sha1').update(s).digest('hex');

function pointer(env: string, project: string, n: number) {
  return renderPointer({
    repository: 'acme/mono',
    project,
    environment: env,
    release: sha(`${project}${n}`),
    digest: `sha256:${createHash('sha256').update(`${project}${n}`).digest('hex')}`,
    releaseNumber: n,
    aliases: [],
    deploymentId: randomUUID(),
    deployedBy: 'bench',
    deployedAt: new Date().toISOString(),
    approvedBy: [],
  });
}

try {
  // A repository of FILES pointers: 4 environments × FILES/4 projects.
  const seed = join(root, 'seed');
  git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  git(root, 'init', '-q', '-b', 'main', seed);
  const envs = ['dev', 'staging', 'qa', 'production'];
  for (let i = 0; i < FILES; i++) {
    const env = envs[i % envs.length];
    const path = join(seed, pointerPath({ environment: env, repository: 'acme/mono', project: `svc-${Math.floor(i / envs.length)}` }));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, pointer(env, `svc-${Math.floor(i / envs.length)}`, 1));
  }
  git(seed, 'add', '-A');
  git(seed, 'commit', '-q', '-m', 'seed');
  git(seed, 'push', '-q', remote, 'main');
  console.log(`GitOps repository: ${git(remote, 'ls-tree', '-r', '--name-only', 'main').split('\n').length} files`);

  // Three identical copies: the baseline, the writer alone and the whole deployment each push to
  // their own, and their samples are interleaved so that all three see the same machine load.
  const [remoteW, remoteD] = ['remote-w.git', 'remote-d.git'].map((name) => {
    const copy = join(root, name);
    git(root, 'clone', '-q', '--bare', remote, copy);
    return copy;
  });
  const checkout = join(root, 'checkout');
  git(root, 'clone', '-q', remote, checkout);
  const writer = await GitOpsWriter.open({
    remote: resolveRemote({ url: remoteW, dataDir: root }),
    branch: 'main',
    cacheDir: join(root, 'cache-w'),
    author: 'Forge <forge@localhost>',
  });
  const { db, ctx, addRelease } = await benchDeployments(root, remoteD, join(root, 'cache-d'));
  for (let n = 1; n <= SAMPLES; n++) await addRelease('svc-3', n);
  for (let i = 0; i < 20 + CONCURRENT; i++) await addRelease(`svc-${10 + i}`, 1);
  const operator = { subject: 'bench', roles: ['operator'] };

  const baseline: number[] = [];
  const writerTimes: number[] = [];
  const deployTimes: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    let t0 = performance.now();
    writeFileSync(
      join(checkout, pointerPath({ environment: 'dev', repository: 'acme/mono', project: 'svc-1' })),
      pointer('dev', 'svc-1', i + 2),
    );
    git(checkout, 'commit', '-q', '-am', `baseline ${i}`);
    git(checkout, 'push', '-q', 'origin', 'main');
    baseline.push(performance.now() - t0);

    t0 = performance.now();
    await writer.submit({
      path: pointerPath({ environment: 'dev', repository: 'acme/mono', project: 'svc-2' }),
      content: pointer('dev', 'svc-2', i + 2),
      message: `writer ${i}`,
    });
    writerTimes.push(performance.now() - t0);

    t0 = performance.now();
    const { deployment } = await requestDeployment(ctx, operator, {
      repository: 'acme/mono',
      project: 'svc-3',
      environment: 'staging',
      release: String(i + 1),
    });
    deployTimes.push(performance.now() - t0);
    if (deployment.status !== 'active') throw new Error(`deployment ${deployment.id} ended ${deployment.status}`);
  }
  await writer.close();
  console.log(`plain git commit + git push (checkout):   ${fmt(baseline)}`);
  console.log(`forge writer: one pointer commit + push:  ${fmt(writerTimes)}`);
  console.log(`forge deployment (API service, PGlite):   ${fmt(deployTimes)}`);
  record({
    figure: 'gitops: one deployment, 10,000 pointers (p50)',
    value: pct(deployTimes, 50),
    unit: 'ms',
    baseline: pct(baseline, 50),
    target: '<= 1.5x git commit + push',
    met: pct(deployTimes, 50) <= 1.5 * pct(baseline, 50),
  });
  record({
    figure: 'gitops: one deployment (p99)',
    value: pct(deployTimes, 99),
    unit: 'ms',
    baseline: pct(baseline, 99),
    target: '-',
    met: true,
  });
  console.log(
    `  ratio to plain git (p50): writer ${(pct(writerTimes, 50) / pct(baseline, 50)).toFixed(2)}x, deployment ${(pct(deployTimes, 50) / pct(baseline, 50)).toFixed(2)}x (target ≤ 1.5x)`,
  );

  // Issue #18 acceptance 6: 20 at once to 20 projects; then 100 at once, to see it scale.
  let nextProject = 10;
  for (const n of [20, CONCURRENT]) {
    const first = nextProject;
    nextProject += n;
    const before = Number(git(remoteD, 'rev-list', '--count', 'main'));
    const t0 = performance.now();
    const done = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        requestDeployment(ctx, operator, { repository: 'acme/mono', project: `svc-${first + i}`, environment: 'staging', release: '1' }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const failed = done.filter((d) => d.deployment.status !== 'active').length;
    const commits = Number(git(remoteD, 'rev-list', '--count', 'main')) - before;
    record({
      figure: `gitops: ${n} concurrent deployments to ${n} projects`,
      value: n / seconds,
      unit: '/s',
      target: '>= 20/s',
      met: n / seconds >= 20 && failed === 0,
    });
    console.log(
      `${n} concurrent deployments: ${seconds.toFixed(2)} s → ${(n / seconds).toFixed(1)} deployments/s in ${commits} commits, ${failed} not active (target ≥ 20/s)`,
    );
  }
  await ctx.close();
  await db.close();
} finally {
  rmSync(root, { recursive: true, force: true });
}
