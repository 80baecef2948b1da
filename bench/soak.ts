/**
 * `npm run soak`: mixed traffic (release creations, resolutions, deployments, approvals,
 * rollbacks) against two replicas on one PostgreSQL, one registry and one GitOps remote.
 * Reports error answers, RSS of each replica (sampled every 5 s: flat when the last quarter's
 * median is within 10% of the second quarter's, issue #18 acceptance 7), and ends with a consistency
 * check of database, registry and GitOps repository (`forge doctor`). Exits 1 on any error
 * answer or finding, or on memory that grows.
 *
 * Around the traffic (issue #12): the registry sits behind a fault proxy that answers bursts
 * of HTTP 500 and 429s now and then (each must be absorbed by the retries: no error answer),
 * and someone outside Forge squashes-and-force-pushes or reverts the GitOps branch now and then.
 * A revert is a state only a person can decide about, so at the end, if doctor finds
 * disagreements, one `forge doctor --repair` (POST /doctor/repair) is run and reported, and
 * doctor must be clean after it.
 *   npm run soak [-- --minutes 10 --workers 8]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { freshPostgres } from '../test/support/db.js';
import { startFaultProxy } from '../test/support/fault-proxy.js';
import { type ForgeProcess, releaseBody, spawnForge, tempDir } from '../test/support/forge.js';
import { makeRemote } from '../test/support/gitops.js';
import { revertTip, squashAndForcePush } from '../test/support/outside-git.js';
import { startRegistry } from '../test/support/registry.js';
import { benchArgs } from './args.js';
import { buildOnce } from './build.js';
import { record } from './report.js';

const { values } = benchArgs(import.meta.url, {
  options: {
    minutes: { type: 'string', default: '10' },
    workers: { type: 'string', default: '8' },
    projects: { type: 'string', default: '20' },
  },
});
const deadline = Date.now() + Number(values.minutes) * 60_000;
const PROJECTS = Number(values.projects);
const REPO = 'soak/mono';

/**
 * Whether a replica's memory stayed flat: the median RSS of the last quarter of the run
 * against the second quarter's (the first is warm-up: caches and pools filling). Flat when the
 * last is at most 10% above.
 */
function rssFlatness(samples: { at: number; mib: number }[]): { early: number; late: number; flat: boolean } {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const first = samples[0]?.at ?? 0;
  const span = (samples.at(-1)?.at ?? 0) - first || 1;
  const quarter = (q: number) => samples.filter((x) => Math.min(3, Math.floor(((x.at - first) / span) * 4)) === q).map((x) => x.mib);
  const early = median(quarter(1));
  const late = median(quarter(3));
  return { early, late, flat: late <= 1.1 * early };
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

buildOnce();
const registry = await startRegistry();
const proxy = await startFaultProxy(registry.host);
const pgdb = await freshPostgres();
const gitops = makeRemote();
const dir = tempDir();
const config = `${dir}/forge.yaml`;
writeFileSync(
  config,
  `environments:
  dev: { promotion_policy: { allowed_triggers: [branch_push, tag, manual], allowed_branches: ["*"], auto_deploy: true } }
  staging: { promotion_policy: { allowed_triggers: [branch_push, tag, manual], allowed_branches: [main] } }
  production: { promotion_policy: { allowed_triggers: [branch_push, tag, manual], allowed_branches: [main], requires_approval: true } }
`,
);
const common = {
  built: true, // the server people run: RSS without tsx's transpiler
  databaseUrl: pgdb.url,
  registry: proxy.host,
  tokenKeyFile: `${dir}/token-key`,
  env: { FORGE_CONFIG: config, FORGE_GITOPS_URL: gitops.remote, FORGE_SIGNING_KEY_FILE: `${dir}/signing-key.pem` },
};
const replicas: ForgeProcess[] = [await spawnForge(common), await spawnForge(common)];
const [ci, deployer, approver, operator] = await Promise.all([
  replicas[0].token(['service-account'], 'ci'),
  replicas[0].token(['deployer:staging', 'deployer:production'], 'dora'),
  replicas[0].token(['approver:production'], 'ann'),
  replicas[0].token(['operator'], 'olga'),
]);
const rssStart = replicas.map((r) => rss(r.proc.pid!));
/** RSS of each replica every 5 s (MiB), for the "flat over the soak" figure (issue #18 acceptance 7). */
const rssSamples: { at: number; mib: number[] }[] = [];
const sampler = setInterval(() => rssSamples.push({ at: Date.now(), mib: replicas.map((r) => rss(r.proc.pid!)) }), 5000);

const released = new Map<number, number>(); // project → highest release number seen
const counts: Record<string, number> = {};
const errors: string[] = [];
let shaCounter = 0;
const rnd = (n: number) => Math.floor(Math.random() * n);

async function step(worker: number) {
  const api = replicas[worker % 2].api;
  const p = rnd(PROJECTS);
  const project = `p${p}`;
  const known = released.get(p) ?? 0;
  const roll = Math.random();
  let op: string;
  let ok: (s: number) => boolean;
  let res: { status: number; text: string; body: any };
  if (roll < 0.3 || known === 0) {
    op = 'create';
    res = await api(
      'POST',
      '/releases',
      releaseBody({ repository: REPO, project }, `a${(++shaCounter).toString(16).padStart(39, '0')}`),
      ci,
    );
    ok = (s) => s === 201;
    if (res.status === 201) released.set(p, Math.max(released.get(p) ?? 0, res.body.release_number));
  } else if (roll < 0.7) {
    op = 'resolve';
    res = await api('GET', `/releases/${REPO}/${project}/${1 + rnd(known)}`, undefined, deployer);
    ok = (s) => s === 200;
  } else if (roll < 0.85) {
    op = 'deploy staging';
    res = await api(
      'POST',
      '/deployments',
      { repository: REPO, project, environment: 'staging', release: String(1 + rnd(known)) },
      deployer,
    );
    ok = (s) => s === 201 || s === 200;
  } else if (roll < 0.95) {
    op = 'approve + deploy production';
    const release = String(1 + rnd(known));
    res = await api(
      'POST',
      '/approvals',
      { repository: REPO, project, environment: 'production', release, justification: 'soak' },
      approver,
    );
    // An approval that already exists is still active (approvals are not used up): deploy on it.
    const approved = res.status === 201 || (res.status === 409 && res.body?.error?.details?.approval_id);
    if (approved) res = await api('POST', '/deployments', { repository: REPO, project, environment: 'production', release }, deployer);
    ok = (s) => s === 201 || s === 200;
  } else {
    op = 'rollback staging';
    res = await api('POST', '/deployments/rollback', { repository: REPO, project, environment: 'staging' }, deployer);
    ok = (s) => s === 201 || (s === 409 && res.body?.error?.code === 'conflict') || (s === 404 && res.body?.error?.code === 'not_found');
  }
  counts[op] = (counts[op] ?? 0) + 1;
  if (!ok(res.status)) errors.push(`${op} ${project}: ${res.status} ${res.text.slice(0, 300)}`);
}

const outside: Record<string, number> = {
  'registry 5xx bursts': 0,
  'registry 429s': 0,
  'gitops squash + force-push': 0,
  'gitops revert': 0,
};
/** Faults around the traffic until the deadline: a registry burst every ~3 s, an outside change to the GitOps branch every ~15 s. */
async function chaos() {
  let tick = 0;
  while (Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 3000));
    tick++;
    if (tick % 2) {
      proxy.inject({ action: { status: 500 }, count: 3 });
      outside['registry 5xx bursts']++;
    } else {
      proxy.inject({ action: { status: 429, retryAfter: '0' }, count: 2 });
      outside['registry 429s']++;
    }
    if (tick % 5 === 0) {
      try {
        if (tick % 10 === 0) {
          revertTip(gitops.remote);
          outside['gitops revert']++;
        } else {
          squashAndForcePush(gitops.remote);
          outside['gitops squash + force-push']++;
        }
      } catch {
        // the branch moved under the outside change (a Forge push won): the next one tries again
      }
    }
  }
}

const started = Date.now();
let lastReport = started;
const chaosDone = chaos();
await Promise.all(
  Array.from({ length: Number(values.workers) }, async (_, w) => {
    while (Date.now() < deadline) {
      await step(w).catch((err) => errors.push(`request failed: ${(err as Error).message}`));
      if (w === 0 && Date.now() - lastReport > 60_000) {
        lastReport = Date.now();
        console.error(
          `${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(counts)}, ${errors.length} errors, RSS ${replicas.map((r) => rss(r.proc.pid!).toFixed(0)).join(' / ')} MiB`,
        );
      }
    }
  }),
);
await chaosDone;
clearInterval(sampler);
proxy.clear();
const rssEnd = replicas.map((r) => rss(r.proc.pid!));
const flatness = replicas.map((_, i) => rssFlatness(rssSamples.map((x) => ({ at: x.at, mib: x.mib[i] }))));
await new Promise((ok) => setTimeout(ok, 3000)); // let auto-deploys still in flight land
let doctor = await replicas[1].api('GET', '/doctor', undefined, operator);
let repair: { status: number; body: any; text: string } | undefined;
if (doctor.status === 200 && !doctor.body.ok) {
  // Outside reverts leave git running what the database calls superseded: one documented repair adopts git's truth.
  repair = await replicas[0].api('POST', '/doctor/repair', undefined, operator);
  doctor = await replicas[1].api('GET', '/doctor', undefined, operator);
}

const seconds = (Date.now() - started) / 1000;
const total = Object.values(counts).reduce((a, b) => a + b, 0);
console.log(`soak: ${seconds.toFixed(0)} s, ${total} operations (${(total / seconds).toFixed(1)}/s) through 2 replicas on PostgreSQL`);
for (const [op, n] of Object.entries(counts)) console.log(`  ${op.padEnd(30)} ${n}`);
console.log(`error answers: ${errors.length}`);
for (const e of errors.slice(0, 20)) console.log(`  ${e}`);
console.log('around the traffic:');
for (const [what, n] of Object.entries(outside)) console.log(`  ${what.padEnd(30)} ${n}`);
console.log(`  registry faults served          ${proxy.served}`);
if (repair)
  console.log(
    `repair (forge doctor --repair): ${repair.status === 200 ? `adopted git's truth in ${repair.body.adopted.length} slots` : repair.text}`,
  );
for (const a of repair?.body?.adopted ?? []) console.log(`  ${a.environment} ${a.repository}/${a.project}: ${a.problem}`);
replicas.forEach((_, i) => {
  const f = flatness[i];
  console.log(
    `replica ${i + 1} RSS: ${rssStart[i].toFixed(0)} MiB at start, ${rssEnd[i].toFixed(0)} MiB at end; median ${f.early.toFixed(0)} MiB in the run's second quarter, ${f.late.toFixed(0)} MiB in its last (${f.flat ? 'flat' : 'GROWING'}: target last ≤ 1.10 × second quarter)`,
  );
  record({
    figure: `soak: replica ${i + 1} RSS, last quarter of the run (median)`,
    value: f.late,
    unit: 'MiB',
    baseline: f.early,
    target: '<= 1.10x the second quarter',
    met: f.flat,
  });
});
console.log(
  `consistency (doctor): ${doctor.status === 200 ? `${doctor.body.findings.length} findings; checked ${JSON.stringify(doctor.body.checked)}` : doctor.text}`,
);
for (const f of doctor.body?.findings ?? []) console.log(`  ${f.check} ${f.subject}: ${f.problem}`);

await Promise.all(replicas.map((r) => r.stop()));
await proxy.close();
await registry.destroy();
await pgdb.drop();
gitops.cleanup();
process.exit(errors.length === 0 && doctor.status === 200 && doctor.body.ok && flatness.every((f) => f.flat) ? 0 : 1);
