/**
 * Release train figures (issue #17, acceptance 1): a 20-project train deployed in one GitOps
 * commit (the whole use case: policy for every member, pending rows, the turn's re-check, one
 * commit and push, every member recorded) on PGlite, in a GitOps repository of 2,000 pointer
 * files, beside a single deployment of one project measured in the same run, samples
 * interleaved. Each train deployment's commit is checked to touch exactly its 20 pointer files.
 * Run: node --import tsx bench/trains.ts [--files 2000] [--samples 5] [--members 20]
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pointerPath, renderPointer } from '../src/core/pointer.js';
import { requestDeployment } from '../src/services/deploy.js';
import { createTrain } from '../src/services/train.js';
import { deployTrain } from '../src/services/train-deploy.js';
import { benchArgs } from './args.js';
import { benchDeployments } from './deployments.js';
import { record } from './report.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    files: { type: 'string', default: '2000' },
    samples: { type: 'string', default: '5' },
    members: { type: 'string', default: '20' },
  },
});
const FILES = Number(values.files);
const SAMPLES = Number(values.samples);
const MEMBERS = Number(values.members);
const ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@x' };
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 }).trim();
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 50).toFixed(1)} ms  max ${Math.max(...xs).toFixed(1)} ms  (n=${xs.length}: ${xs.map((x) => x.toFixed(0)).join(', ')})`;
const sha = (s: string) => createHash('sha1').update(s).digest('hex');

const root = mkdtempSync(join(tmpdir(), 'forge-bench-trains-'));
try {
  // A GitOps repository of FILES pointers in dev (the train and the single deployment go to staging).
  const remote = join(root, 'remote.git');
  const seed = join(root, 'seed');
  git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  git(root, 'init', '-q', '-b', 'main', seed);
  for (let i = 0; i < FILES; i++) {
    const path = join(seed, pointerPath({ environment: 'dev', repository: 'acme/mono', project: `seed-${i}` }));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      renderPointer({
        repository: 'acme/mono',
        project: `seed-${i}`,
        environment: 'dev',
        release: sha(`seed-${i}`),
        digest: `sha256:${createHash('sha256').update(`seed-${i}`).digest('hex')}`,
        releaseNumber: 1,
        aliases: [],
        deploymentId: randomUUID(),
        deployedBy: 'bench',
        deployedAt: new Date().toISOString(),
        approvedBy: [],
      }),
    );
  }
  git(seed, 'add', '-A');
  git(seed, 'commit', '-q', '-m', 'seed');
  git(seed, 'push', '-q', remote, 'main');

  const { db, ctx, addRelease } = await benchDeployments(root, remote, join(root, 'cache'));
  const projects = Array.from({ length: MEMBERS }, (_, i) => `svc-${i}`);
  for (let n = 1; n <= SAMPLES; n++) {
    for (const p of projects) await addRelease(p, n);
    await addRelease('single', n);
  }
  const operator = { subject: 'bench', roles: ['operator'] };

  const single: number[] = [];
  const train: number[] = [];
  for (let n = 1; n <= SAMPLES; n++) {
    let t0 = performance.now();
    const { deployment } = await requestDeployment(ctx, operator, {
      repository: 'acme/mono',
      project: 'single',
      environment: 'staging',
      release: String(n),
    });
    single.push(performance.now() - t0);
    if (deployment.status !== 'active') throw new Error(`deployment ${deployment.id} ended ${deployment.status}`);

    await createTrain(ctx, operator, {
      name: `bench-${n}`,
      members: projects.map((project) => ({ repository: 'acme/mono', project, release: String(n) })),
    });
    t0 = performance.now();
    const d = await deployTrain(ctx, operator, `bench-${n}`, { environment: 'staging' });
    train.push(performance.now() - t0);
    const files = git(remote, 'show', '--name-only', '--format=', d.gitops_commit_sha!).split('\n').filter(Boolean);
    if (
      d.status !== 'deployed' ||
      files.length !== MEMBERS ||
      !files.every((f) => /^staging\/apps\/acme\/mono\/svc-\d+\/release\.yaml$/.test(f))
    )
      throw new Error(`train deployment ${d.id} ended ${d.status} touching ${files.length} files`);
  }
  await ctx.close();
  await db.close();
  console.log(`GitOps repository: ${FILES} pointer files; train of ${MEMBERS} projects`);
  console.log(`single deployment (one project):        ${fmt(single)}`);
  console.log(`train deployment (${MEMBERS} projects, 1 commit): ${fmt(train)}`);
  record({
    figure: `trains: ${MEMBERS}-project train in one commit (max of ${SAMPLES})`,
    value: Math.max(...train),
    unit: 'ms',
    baseline: pct(single, 50),
    target: '< 5000 ms (baseline: one single deployment, p50)',
    met: Math.max(...train) < 5000,
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
