/**
 * Issue #13 item 1: production's branch rule binds tag and manual releases. The pipeline records
 * which branches of the source repository contain the commit, from the CI checkout's
 * remote-tracking refs (real git: an origin, clones, a shallow clone), and the server's branch
 * rule checks that list; unknown fails closed for every pattern but "*".
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containingBranches, readGitContext } from '../src/pipeline/git-context.js';
import { type Forge, releaseBody, startForge } from './support/forge.js';
import { makeRepo, type TestRepo } from './support/pipeline-repo.js';

function gitIn(dir: string, ...args: string[]) {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** An origin with main and a pushed feature branch whose commit is tagged web/v9.9.9; a full clone of it. */
function setup() {
  const origin: TestRepo = makeRepo({ 'README.md': 'x\n' });
  origin.commit('base');
  origin.git('checkout', '-q', '-b', 'feature/x');
  origin.write('web.txt', 'unmerged\n');
  const featureSha = origin.commit('unmerged work');
  origin.git('tag', 'web/v9.9.9');
  origin.git('checkout', '-q', 'main');
  const work = mkdtempSync(join(tmpdir(), 'forge-ci-'));
  const clone = join(work, 'clone');
  gitIn(work, 'clone', '-q', `file://${origin.dir}`, clone);
  return {
    origin,
    clone,
    featureSha,
    work,
    cleanup: () => {
      origin.remove();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

describe('where the commit is, from the CI checkout', () => {
  test('a full clone: the remote-tracking branches that contain the commit; merged later, main too', async () => {
    const s = setup();
    try {
      const ci = { GITHUB_REF: 'refs/tags/web/v9.9.9', GITHUB_SHA: s.featureSha };
      const ctx = await readGitContext(s.clone, ci);
      assert.equal(ctx.tag, 'web/v9.9.9');
      assert.deepEqual(ctx.branches, ['feature/x']);
      assert.equal(ctx.branchesUnknown, undefined);
      s.origin.git('merge', '-q', '--no-ff', '-m', 'merge', 'feature/x');
      gitIn(s.clone, 'fetch', '-q', 'origin');
      assert.deepEqual((await readGitContext(s.clone, ci)).branches, ['feature/x', 'main']);
      // A commit no branch contains (tagged, branch deleted): known, and empty.
      s.origin.git('checkout', '-q', '-b', 'tmp');
      const lone = s.origin.commit('lone');
      s.origin.git('tag', 'lone');
      s.origin.git('checkout', '-q', 'main');
      s.origin.git('branch', '-q', '-D', 'tmp');
      gitIn(s.clone, 'fetch', '-q', '--prune', '--tags', 'origin');
      assert.deepEqual(await containingBranches(s.clone, lone), { branches: [] });
    } finally {
      s.cleanup();
    }
  });

  test('a shallow clone says it cannot tell, with the hint to fetch more history', async () => {
    const s = setup();
    try {
      const shallow = join(s.work, 'shallow');
      gitIn(s.work, 'clone', '-q', '--depth', '1', '--branch', 'web/v9.9.9', `file://${s.origin.dir}`, shallow);
      const ctx = await readGitContext(shallow, { GITHUB_REF: 'refs/tags/web/v9.9.9' });
      assert.equal(ctx.branches, undefined);
      assert.match(ctx.branchesUnknown!, /shallow clone.*fetch-depth: 0/);
    } finally {
      s.cleanup();
    }
  });

  test('review F6: without an origin, only the single remote counts; a fork among several remotes makes it unknown', async () => {
    const s = setup();
    try {
      const ci = { GITHUB_REF: 'refs/tags/web/v9.9.9', GITHUB_SHA: s.featureSha };
      gitIn(s.clone, 'remote', 'rename', 'origin', 'upstream');
      assert.deepEqual((await readGitContext(s.clone, ci)).branches, ['feature/x'], 'the only remote is the source repository');
      // A fork whose main contains the unmerged commit: its branches must not count.
      const fork = join(s.work, 'fork');
      gitIn(s.work, 'clone', '-q', '--bare', `file://${s.origin.dir}`, fork);
      gitIn(fork, 'update-ref', 'refs/heads/main', s.featureSha);
      gitIn(s.clone, 'remote', 'add', 'fork', `file://${fork}`);
      gitIn(s.clone, 'fetch', '-q', 'fork');
      const ctx = await readGitContext(s.clone, ci);
      assert.equal(ctx.branches, undefined, 'never main from the fork');
      assert.match(ctx.branchesUnknown!, /several remotes \(fork, upstream\) and none is "origin"/);
      // With the source repository named origin again, the fork is ignored.
      gitIn(s.clone, 'remote', 'rename', 'upstream', 'origin');
      assert.deepEqual((await readGitContext(s.clone, ci)).branches, ['feature/x']);
    } finally {
      s.cleanup();
    }
  });

  test('a checkout without remote-tracking branches cannot tell either', async () => {
    const repo = makeRepo({ 'a.txt': 'a\n' });
    try {
      const sha = repo.commit('one');
      assert.match(((await containingBranches(repo.dir, sha)) as { unknown: string }).unknown, /no remote-tracking branches/);
    } finally {
      repo.remove();
    }
  });
});

describe('the branch rule on a tag release (the repro)', () => {
  let forge: Forge;
  let ci: string;
  let dev: string;
  before(async () => {
    forge = await startForge();
    ci = await forge.token(['service-account'], 'ci@example.com');
    dev = await forge.token(['developer'], 'dan@example.com');
  });
  after(() => forge.stop());

  const dryRun = async (release: string, environment = 'production') =>
    (await forge.api('POST', '/policy-checks', { repository: 'acme/mono', project: 'web', environment, release }, dev)).body;
  const branchCheck = (r: { checks: { name: string; ok: boolean; actual: string[]; reason?: string }[] }) =>
    r.checks.find((c) => c.name === 'branches')!;

  test('a tag on an unmerged feature-branch commit fails the branch rule in production, not only the approval', async () => {
    const s = setup();
    try {
      const ctx = await readGitContext(s.clone, { GITHUB_REF: 'refs/tags/web/v9.9.9', GITHUB_SHA: s.featureSha });
      const body = releaseBody(
        {
          project: 'web',
          trigger: { type: 'tag', tag: 'web/v9.9.9' },
          tags: ['web/v9.9.9'],
          commit: { sha: ctx.sha, branches: ctx.branches },
        },
        ctx.sha,
      );
      const created = await forge.api('POST', '/releases', body, ci);
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.source.branches, ['feature/x'], 'the release shows where the commit is');
      const dry = await dryRun('v9.9.9');
      assert.equal(dry.allowed, false);
      const c = branchCheck(dry);
      assert.equal(c.ok, false);
      assert.deepEqual(c.actual, ['feature/x'], 'the dry run shows where the commit is');
      assert.match(c.reason!, /only on branch "feature\/x", which matches none of "main"/);
      assert.equal(branchCheck(await dryRun('v9.9.9', 'dev')).ok, true, 'dev admits any branch');

      // Merged and released again from a fresh run: the recorded branches follow, and the rule passes.
      s.origin.git('merge', '-q', '--no-ff', '-m', 'merge', 'feature/x');
      gitIn(s.clone, 'fetch', '-q', 'origin');
      const again = await readGitContext(s.clone, { GITHUB_REF: 'refs/tags/web/v9.9.9', GITHUB_SHA: s.featureSha });
      const rerun = await forge.api('POST', '/releases', { ...body, commit: { sha: ctx.sha, branches: again.branches } }, ci);
      assert.equal(rerun.status, 200, rerun.text);
      assert.deepEqual(rerun.body.source.branches, ['feature/x', 'main']);
      assert.equal(branchCheck(await dryRun('v9.9.9')).ok, true);
    } finally {
      s.cleanup();
    }
  });

  test('unknown branches (a shallow clone, or a release from before) fail closed with the hint; manual releases too', async () => {
    const unknown = releaseBody({ project: 'web', trigger: { type: 'manual' }, commit: { sha: 'f'.repeat(40) } }, 'f'.repeat(40));
    const r = await forge.api('POST', '/releases', unknown, ci);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.source.branches, null);
    const c = branchCheck(await dryRun('f'.repeat(40), 'staging'));
    assert.equal(c.ok, false);
    assert.match(c.reason!, /nobody recorded.*fetch-depth: 0/);
    assert.equal(branchCheck(await dryRun('f'.repeat(40), 'dev')).ok, true, '"*" admits the unknown');
    const bad = await forge.api(
      'POST',
      '/releases',
      releaseBody({ project: 'web', trigger: { type: 'manual' }, commit: { sha: 'e'.repeat(40), branches: ['a..b'] } }, 'e'.repeat(40)),
      ci,
    );
    assert.equal(bad.status, 400);
    assert.match(bad.text, /commit\.branches\[0\]/);
  });
});
