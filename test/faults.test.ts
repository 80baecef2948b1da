/**
 * The fault suite (issue 8, acceptance 2). Each fault makes requests fail with a clear 5xx (or
 * be retried); afterwards there is no half-written release, no number gap, no disagreement
 * between pointer files and the database, and the server keeps serving.
 * Covered elsewhere: registry stopped and SIGKILL during creation (releases-atomicity),
 * SIGKILL during deployment (deploy-recovery), a remote that moves on between fetch and push
 * (gitops), an unreachable remote at the writer level (gitops).
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { eventually } from './support/eventually.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';
import { makeRemote, show } from './support/gitops.js';
import { startPrivatePostgres } from './support/private-postgres.js';
import { startRegistry } from './support/registry.js';

async function numbers(forge: Forge, token: string, project: string): Promise<number[]> {
  const res = await forge.api('GET', `/releases/acme/mono/${project}?limit=200`, undefined, token);
  return res.body.items.map((r: { release_number: number }) => r.release_number).sort((a: number, b: number) => a - b);
}

test('registry slow (timeout) and failing mid-push (500 on the manifest): 503, nothing recorded, no gap', async (t) => {
  const registry = await startRegistry();
  const proxy = await startFaultProxy(registry.host);
  const forge = await startForge({ registry: proxy.host, env: { FORGE_REGISTRY_TIMEOUT_MS: '500' } });
  t.after(async () => {
    await forge.stop();
    await proxy.close();
    await registry.destroy();
  });
  const ci = await forge.token(['service-account']);

  proxy.mode = 'hang';
  const slow = await forge.api('POST', '/releases', releaseBody({ project: 'faulty' }, sha(1)), ci);
  assert.equal(slow.status, 503, slow.text);
  assert.equal(slow.body.error.code, 'registry_unavailable');
  assert.match(slow.body.error.message, /no answer within 0\.5 s/);

  proxy.mode = 'fail-manifest-put';
  const broken = await forge.api('POST', '/releases', releaseBody({ project: 'faulty' }, sha(2)), ci);
  assert.equal(broken.status, 503, broken.text);
  assert.equal(broken.body.error.code, 'registry_unavailable');
  assert.match(broken.body.error.message, /HTTP 500/);
  assert.deepEqual(await numbers(forge, ci, 'faulty'), [], 'nothing half-written');

  proxy.mode = 'pass';
  for (const n of [2, 1, 3])
    assert.equal((await forge.api('POST', '/releases', releaseBody({ project: 'faulty' }, sha(n)), ci)).status, 201);
  assert.deepEqual(await numbers(forge, ci, 'faulty'), [1, 2, 3]);
});

test('write errors in the data directory: 503, nothing recorded, and the server serves on', async (t) => {
  const forge = await startForge();
  t.after(() => forge.stop());
  const ci = await forge.token(['service-account']);
  // The release's layout directory cannot be created: a file stands where it should be (root ignores chmod).
  const blocker = join(forge.dataDir, 'registry/acme/mono/blocked');
  mkdirSync(join(blocker, '..'), { recursive: true });
  writeFileSync(blocker, 'not a directory');
  chmodSync(blocker, 0o444);
  const res = await forge.api('POST', '/releases', releaseBody({ project: 'blocked' }, sha(1)), ci);
  assert.equal(res.status, 503, res.text);
  assert.equal(res.body.error.code, 'registry_unavailable');
  assert.equal(
    (await forge.api('POST', '/releases', releaseBody({ project: 'other' }, sha(1)), ci)).status,
    201,
    'other projects still work',
  );
  rmSync(blocker);
  const ok = await forge.api('POST', '/releases', releaseBody({ project: 'blocked' }, sha(1)), ci);
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.release_number, 1);
});

test('PostgreSQL restarted mid-request: answers are 201 or 503 database_unavailable, retries fill 1..N with no gap', async (t) => {
  const pg = await startPrivatePostgres();
  const forge = await startForge({ databaseUrl: pg.url });
  t.after(async () => {
    await forge.stop().catch(() => {});
    pg.destroy();
  });
  const ci = await forge.token(['service-account']);
  const send = (i: number) => forge.api('POST', '/releases', releaseBody({ project: 'restart' }, sha(i)), ci);
  type Answer = Awaited<ReturnType<typeof send>> & { sentAt: number; answeredAt: number };
  const timed = (i: number): Promise<Answer> => {
    const sentAt = performance.now();
    return send(i).then((r) => ({ ...r, sentAt, answeredAt: performance.now() }));
  };
  // One release before the restart; then one every 15 ms (at most 80), the restart beginning
  // after the fifth, so requests are in flight when the connections are cut and arrive while
  // the database is down; then five more once it is back.
  const sent: Promise<Answer>[] = [Promise.resolve(await timed(1))];
  let restarted = false;
  const sender = (async () => {
    while (!restarted && sent.length < 80) {
      sent.push(timed(sent.length + 1));
      await new Promise((ok) => setTimeout(ok, 15));
    }
    for (let k = 0; k < 5; k++) sent.push(timed(sent.length + 1));
  })();
  await eventually('five releases sent', () => sent.length >= 6);
  const restartAt = performance.now();
  await pg.restart();
  restarted = true;
  await sender;
  const first = await Promise.all(sent);
  const N = first.length;
  for (const r of first) {
    assert.ok([201, 503].includes(r.status), `${r.status} ${r.text}`);
    if (r.status === 503) assert.equal(r.body.error.code, 'database_unavailable');
  }
  // The restart happened during the requests, and they felt it.
  assert.ok(
    first.some((r) => r.sentAt < restartAt && r.answeredAt > restartAt),
    'a request was in flight when the restart began',
  );
  assert.equal(first[0].status, 201, 'the first release, before the restart');
  assert.ok(
    first.some((r) => r.status === 503),
    `the restart cut requests off (answers: ${first.map((r) => r.status).join(' ')})`,
  );
  const retried = await Promise.all(first.map((r, i) => (r.status === 201 ? r : send(i + 1))));
  for (const r of retried) assert.ok([200, 201].includes(r.status), `${r.status} ${r.text}`);
  assert.deepEqual(
    await numbers(forge, ci, 'restart'),
    Array.from({ length: N }, (_, i) => i + 1),
  );
  assert.equal((await forge.api('GET', '/readyz')).status, 200);
});

test("GitOps pushes refused by a hook, and a remote gone away: 502 gitops_rejected at once with the remote's own message, the record failed with it; the pointer and the database agree", async (t) => {
  const { remote, cleanup } = makeRemote({ 'README.md': 'gitops\n' });
  const forge = await startForge({ env: { FORGE_GITOPS_URL: remote, FORGE_GITOPS_PUSH_ATTEMPTS: '25', FORGE_CONFIG: '' } });
  t.after(async () => {
    await forge.stop();
    cleanup();
  });
  const ci = await forge.token(['service-account']);
  const ops = await forge.token(['operator'], 'olga@example.com');
  for (const project of ['gated', 'free'])
    assert.equal((await forge.api('POST', '/releases', releaseBody({ project }, sha(1)), ci)).status, 201);
  const deploy = (project = 'gated') =>
    forge.api('POST', '/deployments', { repository: 'acme/mono', project, environment: 'staging', release: '1' }, ops);

  // The registrations' auto-deploys to dev land before the hook is installed.
  for (const project of ['gated', 'free'])
    await eventually(
      `${project} auto-deployed to dev`,
      async () => (await forge.api('GET', `/deployments/dev/acme/mono/${project}`, undefined, ops)).status === 200,
      { withinMs: 60_000 },
    );
  const hook = join(remote, 'hooks/pre-receive');
  writeFileSync(hook, `#!/bin/sh\necho run >> "${remote}/hook-runs"\necho "frozen for maintenance until 18:00 (OPS-77)" >&2\nexit 1\n`, {
    mode: 0o755,
  });
  const rejected = await deploy();
  assert.equal(rejected.status, 502, rejected.text);
  assert.equal(rejected.body.error.code, 'gitops_rejected');
  assert.match(rejected.body.error.message, /frozen for maintenance until 18:00 \(OPS-77\)/);
  assert.equal(readFileSync(join(remote, 'hook-runs'), 'utf8'), 'run\n', 'one attempt, not 25');
  assert.equal(show(remote, 'main', 'staging/apps/acme/mono/gated/release.yaml'), null, 'no pointer');
  const history = await forge.api('GET', '/deployments/staging/acme/mono/gated/history', undefined, ops);
  assert.equal(history.body.items[0].status, 'failed');
  assert.match(history.body.items[0].error, /OPS-77/);

  // A hook refusing one project only: the others deploy at the same time.
  writeFileSync(
    hook,
    '#!/bin/sh\nwhile read old new ref; do if git diff --name-only "$old" "$new" | grep -q "/gated/"; then echo "gated is frozen" >&2; exit 1; fi; done\n',
    { mode: 0o755 },
  );
  const [gated, free] = await Promise.all([deploy('gated'), deploy('free')]);
  assert.equal(gated.status, 502, gated.text);
  assert.match(gated.body.error.message, /gated is frozen/);
  assert.equal(free.status, 201, free.text);
  assert.equal(free.body.status, 'active');

  rmSync(hook);
  const moved = `${remote}.away`;
  renameSync(remote, moved);
  const gone = await deploy();
  assert.equal(gone.status, 502, gone.text);
  assert.equal(gone.body.error.code, 'gitops_rejected');
  assert.match(gone.body.error.message, /does not appear to be a git repository/);
  renameSync(moved, remote);

  const ok = await deploy();
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.status, 'active');
  assert.match(show(remote, 'main', 'staging/apps/acme/mono/gated/release.yaml') ?? '', new RegExp(ok.body.id));
  const doctor = await forge.api('GET', '/doctor', undefined, ops);
  assert.deepEqual(doctor.body.findings, [], 'pointer files and database agree');
});

test('registry 5xx bursts, 429 with Retry-After and dropped connections through a fault proxy: retried, 201; past the budget a clean 503 with nothing written (issue #12 item 6)', async (t) => {
  const registry = await startRegistry();
  const proxy = await startFaultProxy(registry.host);
  const forge = await startForge({ registry: proxy.host });
  t.after(async () => {
    await forge.stop();
    await proxy.close();
    await registry.destroy();
  });
  const ci = await forge.token(['service-account']);
  const ops = await forge.token(['operator']);
  const is = (method: string, kind: RegExp) => (m: string, url: string) => m === method && kind.test(url);
  const faults = [
    proxy.inject({ action: { status: 500 }, match: is('POST', /\/blobs\/uploads\//), count: 3 }),
    proxy.inject({ action: 'drop', match: is('PUT', /\/blobs\/uploads\//), count: 2 }),
    proxy.inject({ action: { status: 503, retryAfter: '0' }, match: is('PUT', /\/manifests\//), count: 2 }),
    proxy.inject({ action: { status: 429, retryAfter: '1' }, match: is('GET', /\/manifests\//), count: 1 }),
  ];
  const made = await Promise.all(
    [1, 2, 3, 4].map((n) => forge.api('POST', '/releases', releaseBody({ project: `burst${n % 2}` }, sha(n)), ci)),
  );
  for (const r of made) assert.equal(r.status, 201, r.text);
  assert.deepEqual(
    faults.map((f) => f.left()),
    [0, 0, 0, 0],
    'every injected fault was met, and absorbed',
  );

  // A registry down for longer than the retry budget: the same clean 503, nothing recorded.
  const outage = proxy.inject({ action: { status: 500 }, count: 1000 });
  const down = await forge.api('POST', '/releases', releaseBody({ project: 'outage' }, sha(9)), ci);
  assert.equal(down.status, 503, down.text);
  assert.equal(down.body.error.code, 'registry_unavailable');
  assert.deepEqual(await numbers(forge, ci, 'outage'), []);
  assert.ok(1000 - outage.left() >= 5, 'retried up to the budget');
  proxy.clear(); // the outage ends
  const back = await forge.api('POST', '/releases', releaseBody({ project: 'outage' }, sha(9)), ci);
  assert.equal(back.status, 201, back.text);
  assert.equal(back.body.release_number, 1, 'no number was used up by the failed attempt');
  const report = await forge.api('GET', '/doctor', undefined, ops);
  assert.equal(report.status, 200, report.text);
  assert.deepEqual(report.body.findings, []);
});

test('outside commits, reverts, hand deletions and force-pushes to the GitOps branch while deployments run: no error answer, nothing left pending, and after one repair the database follows the tip (issue #12)', async (t) => {
  const { remote, cleanup } = makeRemote({ 'README.md': 'gitops\n' });
  const forge = await startForge({ env: { FORGE_GITOPS_URL: remote } });
  t.after(async () => {
    await forge.stop();
    cleanup();
  });
  const ci = await forge.token(['service-account']);
  const ops = await forge.token(['operator'], 'olga@example.com');
  const projects = ['p0', 'p1', 'p2'];
  for (const project of projects)
    for (const n of [1, 2, 3]) assert.equal((await forge.api('POST', '/releases', releaseBody({ project }, sha(n)), ci)).status, 201);
  const pointer = (project: string) => `staging/apps/acme/mono/${project}/release.yaml`;

  // An outside actor rewrites the branch over and over while the deployments run (its git runs
  // asynchronously: the server shares this process).
  const run = promisify(execFile);
  const gitIn = (cwd: string, ...args: string[]) =>
    run('git', args, {
      cwd,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Outside',
        GIT_AUTHOR_EMAIL: 'o@x',
        GIT_COMMITTER_NAME: 'Outside',
        GIT_COMMITTER_EMAIL: 'o@x',
      },
    });
  const inClone = async (fn: (work: string) => Promise<unknown>) => {
    const work = mkdtempSync(join(tmpdir(), 'forge-outside-'));
    try {
      await gitIn(work, 'clone', '-q', '-b', 'main', remote, '.');
      await fn(work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };
  let running = true;
  const outside: string[] = [];
  const moves: [string, (work: string) => Promise<unknown>][] = [
    [
      'commit',
      async (w) => {
        writeFileSync(join(w, 'README.md'), `edited ${outside.length}\n`);
        await gitIn(w, 'commit', '-qam', 'an outside commit');
        await gitIn(w, 'push', '-q', 'origin', 'main');
      },
    ],
    [
      'revert',
      async (w) => {
        await gitIn(w, 'revert', '--no-edit', 'HEAD');
        await gitIn(w, 'push', '-q', 'origin', 'main');
      },
    ],
    [
      'force-push',
      async (w) => {
        await gitIn(w, 'checkout', '-q', '--orphan', 'squashed');
        await gitIn(w, 'commit', '-q', '-m', 'squash everything');
        await gitIn(w, 'push', '-q', '--force', 'origin', 'squashed:main');
      },
    ],
    [
      'hand deletion',
      async (w) => {
        await gitIn(w, 'rm', '-q', pointer(projects[outside.length % projects.length]));
        await gitIn(w, 'commit', '-q', '-m', 'delete a pointer by hand');
        await gitIn(w, 'push', '-q', 'origin', 'main');
      },
    ],
  ];
  const rewrote = () => outside.includes('force-push') && outside.includes('revert');
  const actor = (async () => {
    // Paced like people, not a loop: a branch rewritten faster than a push can be built would starve every writer.
    // Eight moves at least, more (up to sixteen) until it has force-pushed and reverted: a move
    // that lost a race with Forge's push is tried again later.
    for (let i = 0; i < 16 && (i < 8 || !rewrote()); i++) {
      const [what, move] = moves[i % moves.length];
      try {
        await inClone(move);
        outside.push(what);
      } catch {
        // the branch moved under the outside change (Forge pushed first), or nothing to delete: the next one goes on
      }
      await new Promise((ok) => setTimeout(ok, 1500));
    }
    running = false;
  })();
  const answers: { status: number; text: string; body: any }[] = [];
  await Promise.all(
    [0, 1, 2].map(async (w) => {
      // deployments go on while the outside actor works (at least five each, at most forty):
      // deployments that finish before it has rewritten the branch would test nothing
      for (let i = 0; i < 5 || (running && i < 40); i++) {
        const project = projects[(w + i) % projects.length];
        answers.push(
          await forge.api(
            'POST',
            '/deployments',
            { repository: 'acme/mono', project, environment: 'staging', release: String(1 + ((w + i) % 3)) },
            ops,
          ),
        );
      }
    }),
  );
  await actor;
  assert.ok(rewrote(), `the outside actor rewrote the branch: ${outside.join(', ')}`);
  for (const a of answers) {
    assert.ok(a.status === 201 || a.status === 200, `no error answer: ${a.status} ${a.text}`);
    assert.notEqual(a.body.status, 'pending', `answered settled: ${a.text}`);
  }
  for (const project of projects) {
    const history = await forge.api('GET', `/deployments/staging/acme/mono/${project}/history?limit=100`, undefined, ops);
    assert.deepEqual(
      history.body.items.filter((d: { status: string }) => d.status === 'pending'),
      [],
      'no deployment stuck pending',
    );
  }

  // One repair adopts what the outside actor left (a revert or a deletion is a person's decision), then all agree.
  const repair = await forge.api('POST', '/doctor/repair', undefined, ops);
  assert.equal(repair.status, 200, repair.text);
  const doctor = await forge.api('GET', '/doctor', undefined, ops);
  assert.deepEqual(doctor.body.findings, [], 'database, release store and GitOps repository agree');
  // Nothing recorded that git does not have: each active deployment is the one the tip's pointer names.
  const envs = await forge.api('GET', '/environments', undefined, ops);
  const staging = envs.body.items.find((e: { name: string }) => e.name === 'staging');
  for (const project of projects) {
    const text = show(remote, 'main', pointer(project));
    const active = staging.deployments.find((d: { project: string }) => d.project === project);
    if (text === null) assert.equal(active, undefined, `${project}: no pointer, nothing active`);
    else assert.match(text, new RegExp(`deployment-id: "?${active?.deployment_id}`), `${project}: the tip runs the active deployment`);
  }
});
