import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { resolveRemote } from '../src/gitops/remote.js';
import { classifyRefusal, GitOpsWriter, UpdateWithdrawnError } from '../src/gitops/writer.js';
import { commitOutside, git, makeRemote, show } from './support/gitops.js';

const SEED = {
  'README.md': 'operators keep notes here\n',
  'dev/env.yaml': 'kind: EnvironmentConfig\n',
  'dev/apps/acme/mono/api/env.yaml': 'data: {replicas: 2}\n',
  'dev/apps/acme/mono/api/release.yaml': 'old pointer\n',
  'prod/apps/acme/mono/api/release.yaml': 'prod pointer\n',
};
const API = 'dev/apps/acme/mono/api/release.yaml';

async function open(root: string, remote: string, name = 'cache', extra: Partial<Parameters<typeof GitOpsWriter.open>[0]> = {}) {
  return GitOpsWriter.open({
    remote: resolveRemote({ url: remote, dataDir: root }),
    branch: 'main',
    cacheDir: join(root, name),
    author: 'Forge <forge@localhost>',
    ...extra,
  });
}

test('a pointer update is one commit that changes only that release.yaml, authored by Forge, with its message', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const before = git(remote, 'rev-parse', 'main');
  const w = await open(root, remote);
  t.after(() => w.close());
  const landed = await w.submit({ path: API, content: 'new pointer\n', message: 'Deploy api to dev: release 2 (v2)\n\nbody\n' });
  assert.equal(landed.unchanged, false);
  assert.equal(git(remote, 'rev-parse', 'main'), landed.commit);
  assert.equal(git(remote, 'rev-parse', `${landed.commit}^`), before);
  assert.equal(git(remote, 'diff-tree', '--no-commit-id', '--name-only', '-r', before, landed.commit), API);
  assert.equal(show(remote, 'main', API), 'new pointer\n');
  assert.equal(
    git(remote, 'log', '-1', '--format=%an <%ae>|%B', 'main'),
    'Forge <forge@localhost>|Deploy api to dev: release 2 (v2)\n\nbody',
  );
  for (const f of ['README.md', 'dev/env.yaml', 'dev/apps/acme/mono/api/env.yaml', 'prod/apps/acme/mono/api/release.yaml']) {
    assert.equal(show(remote, 'main', f), SEED[f as keyof typeof SEED]);
  }
  assert.equal(git(remote, 'fsck', '--no-progress', '--strict'), '');
});

test('an outside commit landing between fetch and push: the push is rejected, rebuilt on the new tip, and both changes survive', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const w = await open(root, remote); // fetched here
  t.after(() => w.close());
  const outside = commitOutside(
    remote,
    { 'README.md': 'edited by an operator\n', 'dev/env.yaml': 'kind: EnvironmentConfig # tuned\n' },
    'operator edit',
  );
  const landed = await w.submit({ path: API, content: 'new pointer\n', message: 'deploy' });
  assert.equal(git(remote, 'rev-parse', `${landed.commit}^`), outside, 'rebuilt on the outside commit');
  assert.equal(show(remote, 'main', 'README.md'), 'edited by an operator\n');
  assert.equal(show(remote, 'main', 'dev/env.yaml'), 'kind: EnvironmentConfig # tuned\n');
  assert.equal(show(remote, 'main', API), 'new pointer\n');
  assert.equal(git(remote, 'diff-tree', '--no-commit-id', '--name-only', '-r', outside, landed.commit), API);
});

test('concurrent updates are batched: every one lands and learns its commit, with fewer commits than updates', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const before = Number(git(remote, 'rev-list', '--count', 'main'));
  const w = await open(root, remote);
  t.after(() => w.close());
  const paths = Array.from({ length: 20 }, (_, i) => `dev/apps/acme/mono/svc-${i}/release.yaml`);
  const results = await Promise.all(
    paths.map((path, i) => w.submit({ path, content: `pointer ${i}\n`, message: `Deploy svc-${i} to dev: release 1 (abc)\n` })),
  );
  const commits = new Set(results.map((r) => r.commit));
  assert.equal(commits.size, 2, 'the first update goes alone, the 19 queued behind it share one commit');
  const after = Number(git(remote, 'rev-list', '--count', 'main'));
  assert.equal(after - before, 2);
  paths.forEach((p, i) => {
    assert.equal(show(remote, results[i].commit, p), `pointer ${i}\n`, 'each update is in the commit it was told');
    assert.equal(show(remote, 'main', p), `pointer ${i}\n`);
  });
  const batched = git(remote, 'log', '-1', '--format=%B', 'main');
  assert.match(batched, /^Deploy 19 releases\n\n- Deploy svc-1 to dev/);
});

test('two updates of one file never share a commit; the later submitted is the one left', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const w = await open(root, remote);
  t.after(() => w.close());
  const [a, b, c] = await Promise.all(['one', 'two', 'three'].map((x) => w.submit({ path: API, content: `${x}\n`, message: x })));
  assert.equal(new Set([a.commit, b.commit, c.commit]).size, 3);
  assert.equal(git(remote, 'rev-parse', 'main'), c.commit);
  assert.equal(show(remote, 'main', API), 'three\n');
  assert.equal(show(remote, b.commit, API), 'two\n');
});

test('two writers with their own clones push to one remote concurrently: nothing is lost', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const w1 = await open(root, remote, 'cache-1');
  const w2 = await open(root, remote, 'cache-2');
  t.after(async () => {
    await w1.close();
    await w2.close();
  });
  const jobs = Array.from({ length: 30 }, (_, i) =>
    (i % 2 ? w1 : w2).submit({ path: `prod/apps/acme/mono/p${i}/release.yaml`, content: `p${i}\n`, message: `p${i}` }),
  );
  const results = await Promise.all(jobs);
  for (let i = 0; i < 30; i++) {
    assert.equal(show(remote, 'main', `prod/apps/acme/mono/p${i}/release.yaml`), `p${i}\n`);
    assert.equal(git(remote, 'merge-base', '--is-ancestor', results[i].commit, 'main'), '');
  }
  assert.equal(show(remote, 'main', 'README.md'), SEED['README.md']);
});

test('content already in place makes no commit', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const w = await open(root, remote);
  t.after(() => w.close());
  const tip = git(remote, 'rev-parse', 'main');
  const r = await w.submit({ path: API, content: 'old pointer\n', message: 'noop' });
  assert.deepEqual(r, { commit: tip, unchanged: true });
  assert.equal(git(remote, 'rev-parse', 'main'), tip);
});

test('an empty remote gets its first commit and branch', async (t) => {
  const { root, remote, cleanup } = makeRemote();
  t.after(cleanup);
  const w = await open(root, remote);
  t.after(() => w.close());
  const r = await w.submit({ path: API, content: 'first\n', message: 'first' });
  assert.equal(git(remote, 'rev-parse', 'main'), r.commit);
  assert.equal(git(remote, 'rev-list', '--count', 'main'), '1');
  const read = await w.readFile(API);
  assert.deepEqual(read, { tip: r.commit, content: 'first\n' });
});

test('the writer refuses any file but a release.yaml in the layout', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const w = await open(root, remote);
  t.after(() => w.close());
  for (const path of [
    'dev/env.yaml',
    'dev/apps/acme/mono/api/env.yaml',
    'README.md',
    'dev/apps/acme/api/release.yaml',
    '../x/apps/a/b/c/release.yaml',
  ]) {
    await assert.rejects(w.submit({ path, content: 'x', message: 'x' }), /only writes <env>\/apps/);
  }
});

test('updates whose owner no longer holds them are withdrawn before the push', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const asked: string[][] = [];
  const w = await open(root, remote, 'cache', {
    prepare: async (_base, items) => {
      asked.push(items.map((i) => i.id));
      return new Map(
        items
          .filter((i) => i.id !== 'lost')
          .map((i) => [i.id, { action: 'write' as const, content: i.id === 'kept' ? 'kept\n' : '', message: i.id }]),
      );
    },
  });
  t.after(() => w.close());
  const kept = w.submit({ path: API, content: 'kept\n', message: 'kept', id: 'kept' });
  const lost = w.submit({ path: 'prod/apps/acme/mono/api/release.yaml', content: 'lost\n', message: 'lost', id: 'lost' });
  await kept;
  await assert.rejects(lost, UpdateWithdrawnError);
  assert.equal(show(remote, 'main', 'prod/apps/acme/mono/api/release.yaml'), 'prod pointer\n');
  assert.ok(asked.flat().includes('lost'));
});

test('an unreachable remote is gitops_unavailable for updates (not for opening), and works once it is back; a remote that goes away fails the update', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  const missing = join(root, 'later.git');
  const early = await open(root, missing, 'cache-early', { retry: { attempts: 2, baseMs: 1, maxMs: 2 } });
  t.after(() => early.close());
  // A repository that is not there is a refusal no retry can fix (issue #12 item 5): 502 at once.
  await assert.rejects(
    early.submit({ path: API, content: 'x\n', message: 'x' }),
    (e: unknown) =>
      e instanceof ForgeError &&
      e.code === 'gitops_rejected' &&
      e.status === 502 &&
      /does not appear to be a git repository/.test(e.message),
  );
  git(root, 'clone', '-q', '--bare', remote, missing);
  await early.submit({ path: API, content: 'back\n', message: 'back' });
  assert.equal(show(missing, 'main', API), 'back\n');
  assert.equal(show(missing, 'main', 'README.md'), SEED['README.md'], 'built on the remote history, not on an empty tree');
  const w = await open(root, remote, 'cache', { retry: { attempts: 2, baseMs: 1, maxMs: 2 } });
  t.after(() => w.close());
  const { renameSync } = await import('node:fs');
  renameSync(remote, `${remote}.gone`);
  await assert.rejects(
    w.submit({ path: API, content: 'x\n', message: 'x' }),
    (e: unknown) => e instanceof ForgeError && e.code === 'gitops_rejected' && /does not appear to be a git repository/.test(e.message),
  );
  // A remote that cannot be reached (no such host) is unavailable, retried, then 503.
  const far = await open(root, 'ssh://forge@unreachable.invalid/gitops.git', 'cache-far', { retry: { attempts: 2, baseMs: 1, maxMs: 2 } });
  t.after(() => far.close());
  await assert.rejects(
    far.submit({ path: API, content: 'x\n', message: 'x' }),
    (e: unknown) => e instanceof ForgeError && e.code === 'gitops_unavailable' && /after 2 attempts/.test(e.message),
  );
});

/** Installs `hook` (a shell script) as the remote's pre-receive hook; each run appends a line to `<remote>/hook-runs`. */
function installHook(remote: string, body: string) {
  const hook = join(remote, 'hooks', 'pre-receive');
  writeFileSync(hook, `#!/bin/sh\necho run >> "${remote}/hook-runs"\n${body}\n`);
  chmodSync(hook, 0o755);
}
const hookRuns = (remote: string) =>
  existsSync(join(remote, 'hook-runs')) ? readFileSync(join(remote, 'hook-runs'), 'utf8').split('\n').filter(Boolean).length : 0;

test("a pre-receive hook that declines: 502 gitops_rejected at the first attempt, carrying the hook's own message (issue #12 item 5)", async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  installHook(remote, 'echo "GL-HOOK-ERR: pushes to main need a signed-off change ticket (CHG-1234)" >&2\nexit 1');
  const w = await open(root, remote, 'cache', { retry: { attempts: 25, baseMs: 20, maxMs: 1000 } });
  t.after(() => w.close());
  const before = git(remote, 'rev-parse', 'main');
  await assert.rejects(w.submit({ path: API, content: 'x\n', message: 'x' }), (e: unknown) => {
    assert.ok(e instanceof ForgeError);
    assert.equal(e.code, 'gitops_rejected');
    assert.equal(e.status, 502);
    assert.match(e.message, /GL-HOOK-ERR: pushes to main need a signed-off change ticket \(CHG-1234\)/);
    assert.match(e.message, /pre-receive hook declined/);
    assert.match(String(e.details?.remote_message), /CHG-1234/);
    return true;
  });
  assert.equal(hookRuns(remote), 1, 'tried once, not 25 times');
  assert.equal(git(remote, 'rev-parse', 'main'), before);
});

test('refusals for good fail alone: a hook refusing one project does not fail the others batched with it; a protected branch and a read-only remote are refused at once', async (t) => {
  const { root, remote, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  // Refuses any push whose new tip changes the prod pointer.
  installHook(
    remote,
    'while read old new ref; do if [ "$old" != 0000000000000000000000000000000000000000 ] && git diff --name-only "$old" "$new" | grep -q "^prod/"; then echo "prod is frozen by the change board" >&2; exit 1; fi; done',
  );
  const w = await open(root, remote);
  t.after(() => w.close());
  const refused = w.submit({ path: 'prod/apps/acme/mono/api/release.yaml', content: 'p\n', message: 'prod' });
  const fine = w.submit({ path: API, content: 'fine\n', message: 'dev' });
  await assert.rejects(
    refused,
    (e: unknown) => e instanceof ForgeError && e.code === 'gitops_rejected' && /prod is frozen by the change board/.test(e.message),
  );
  await fine;
  assert.equal(show(remote, 'main', API), 'fine\n');
  assert.equal(show(remote, 'main', 'prod/apps/acme/mono/api/release.yaml'), 'prod pointer\n');

  // A protected branch, as hosts word it.
  installHook(
    remote,
    'echo "error: GH006: Protected branch update failed for refs/heads/main." >&2\necho "error: protected branch hook declined" >&2\nexit 1',
  );
  await assert.rejects(
    w.submit({ path: API, content: 'again\n', message: 'again' }),
    (e: unknown) => e instanceof ForgeError && e.code === 'gitops_rejected' && /GH006: Protected branch update failed/.test(e.message),
  );
  // Permission denied by the server's access control.
  installHook(remote, 'echo "Permission denied: forge-bot may not push to acme/gitops" >&2\nexit 1');
  const runs = hookRuns(remote);
  await assert.rejects(
    w.submit({ path: API, content: 'again\n', message: 'again' }),
    (e: unknown) => e instanceof ForgeError && e.code === 'gitops_rejected' && /forge-bot may not push/.test(e.message),
  );
  assert.equal(hookRuns(remote), runs + 1);
});

test('remote URLs: path, file://, ssh with a key file, https with a token kept out of the URL', () => {
  assert.equal(resolveRemote({ dataDir: '/data' }).url, '/data/gitops.git');
  assert.equal(resolveRemote({ url: 'file:///srv/g.git', dataDir: '/d' }).url, 'file:///srv/g.git');
  const ssh = resolveRemote({ url: 'ssh://git@example.com/acme/gitops.git', dataDir: '/d', sshKeyFile: '/keys/id' });
  assert.equal(ssh.env.GIT_SSH_COMMAND, "ssh -o BatchMode=yes -i '/keys/id' -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new");
  const pinned = resolveRemote({
    url: 'git@example.com:acme/gitops.git',
    dataDir: '/d',
    sshKeyFile: "/k/it's",
    knownHostsFile: '/k/known',
  });
  assert.equal(
    pinned.env.GIT_SSH_COMMAND,
    "ssh -o BatchMode=yes -i '/k/it'\\''s' -o IdentitiesOnly=yes -o UserKnownHostsFile='/k/known' -o StrictHostKeyChecking=yes",
  );
  const https = resolveRemote({ url: 'https://example.com/acme/gitops.git', dataDir: '/d', token: 's3cret' });
  assert.equal(https.url, 'https://example.com/acme/gitops.git');
  assert.equal(https.env.GIT_CONFIG_KEY_0, 'http.extraHeader');
  assert.equal(https.env.GIT_CONFIG_VALUE_0, `Authorization: Basic ${Buffer.from('x-access-token:s3cret').toString('base64')}`);
  assert.ok(!https.display.includes('s3cret'));
});

test('a repository missing behind an HTTP server is refused at the first attempt, as git words it (#12 review F1); so is a hosting rule violation', async (t) => {
  const { root, cleanup } = makeRemote(SEED);
  t.after(cleanup);
  // A real (dumb) HTTP git server with no repository at that path.
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const server = spawn('/usr/bin/python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', root], {
    stdio: 'ignore',
  });
  t.after(() => server.kill());
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const w = await open(root, `http://127.0.0.1:${port}/missing.git`, 'cache-http', { retry: { attempts: 25, baseMs: 50, maxMs: 1000 } });
  t.after(() => w.close());
  await assert.rejects(w.submit({ path: API, content: 'x\n', message: 'x' }), (e: unknown) => {
    assert.ok(e instanceof ForgeError);
    assert.equal(e.code, 'gitops_rejected', e.message);
    assert.match(e.message, /repository '.*missing\.git\/?' not found/);
    assert.doesNotMatch(e.message, /attempts/);
    return true;
  });
  // GitHub's rulesets (today's branch protection) answer in these words.
  assert.match(
    classifyRefusal(
      'remote: error: GH013: Repository rule violations found for refs/heads/main.\n',
      'push declined due to repository rule violations',
    ) ?? '',
    /rule violations/,
  );
});
