import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateTrigger, parseReleaseConfig } from '../src/core/triggers.js';
import { commitUrl, readGitContext } from '../src/pipeline/git-context.js';
import { makeRepo } from './support/pipeline-repo.js';

const on = (...rules: unknown[]) => parseReleaseConfig({ on: rules })!;
const NO_CI = { PATH: process.env.PATH } as NodeJS.ProcessEnv;

test('branch rules are full-match regexes: main does not match maintenance', async (t) => {
  const repo = makeRepo({ 'a.txt': '1' });
  t.after(() => repo.remove());
  repo.commit();
  repo.git('checkout', '-q', '-b', 'maintenance');
  const ctx = await readGitContext(repo.dir, NO_CI);
  assert.equal(ctx.branch, 'maintenance');
  const d = evaluateTrigger('api', on({ branch: 'main' }), ctx, 'monorepo');
  assert.equal(d.triggered, false);
  assert.match((d as { reason: string }).reason, /branch "maintenance" matches no rule/);

  repo.git('checkout', '-q', '-b', 'release/1.2');
  const ctx2 = await readGitContext(repo.dir, NO_CI);
  assert.deepEqual(evaluateTrigger('api', on({ branch: 'main' }, { branch: 'release/.*' }), ctx2, 'monorepo'), {
    triggered: true,
    trigger: { type: 'branch_push', branch: 'release/1.2' },
    tags: [],
  });
  repo.git('checkout', '-q', 'main');
  const ctx3 = await readGitContext(repo.dir, NO_CI);
  assert.deepEqual(evaluateTrigger('api', on({ branch: 'main' }), ctx3, 'monorepo'), {
    triggered: true,
    trigger: { type: 'branch_push', branch: 'main' },
    tags: [],
  });
});

test('{tag: true} under monorepo counts only <project>/v* tags; under tag-all every tag', async (t) => {
  const repo = makeRepo({ 'a.txt': '1' });
  t.after(() => repo.remove());
  const sha = repo.commit();
  repo.git('tag', 'auth/v1.2.3');
  repo.git('tag', 'other/v9.0.0');
  repo.git('checkout', '-q', '--detach', sha);
  const ctx = await readGitContext(repo.dir, NO_CI);
  assert.equal(ctx.branch, undefined);
  assert.deepEqual(ctx.tags, ['auth/v1.2.3', 'other/v9.0.0']);
  const rules = on({ branch: 'main' }, { tag: true });
  assert.deepEqual(evaluateTrigger('auth', rules, ctx, 'monorepo'), {
    triggered: true,
    trigger: { type: 'tag', tag: 'auth/v1.2.3' },
    tags: ['auth/v1.2.3', 'other/v9.0.0'],
  });
  assert.equal(evaluateTrigger('billing', rules, ctx, 'monorepo').triggered, false);
  assert.deepEqual(evaluateTrigger('billing', rules, ctx, 'tag-all'), {
    triggered: true,
    trigger: { type: 'tag', tag: 'auth/v1.2.3' },
    tags: ['auth/v1.2.3', 'other/v9.0.0'],
  });
  // Without {tag: true} tags neither trigger nor get sent.
  assert.equal(evaluateTrigger('auth', on({ branch: 'main' }), ctx, 'monorepo').triggered, false);
});

test('a branch push sends the commit tags along when the project has {tag: true}', async (t) => {
  const repo = makeRepo({ 'a.txt': '1' });
  t.after(() => repo.remove());
  repo.commit();
  repo.git('tag', 'v2.0.0');
  const ctx = await readGitContext(repo.dir, NO_CI);
  assert.deepEqual(evaluateTrigger('auth', on({ branch: 'main' }, { tag: true }), ctx, 'tag-all'), {
    triggered: true,
    trigger: { type: 'branch_push', branch: 'main' },
    tags: ['v2.0.0'],
  });
});

test('CI variables: GITHUB_REF names the tag or branch, GITHUB_SHA the commit', async (t) => {
  const repo = makeRepo({ 'a.txt': '1' });
  t.after(() => repo.remove());
  const first = repo.commit('first');
  repo.commit('second');
  repo.git('tag', 'auth/v1.0.0', first);
  const ctx = await readGitContext(repo.dir, { ...NO_CI, GITHUB_REF: 'refs/tags/auth/v1.0.0', GITHUB_SHA: first.toUpperCase() });
  assert.equal(ctx.sha, first);
  assert.equal(ctx.message, 'first');
  assert.equal(ctx.tag, 'auth/v1.0.0');
  assert.equal(ctx.branch, undefined);
  assert.deepEqual(evaluateTrigger('auth', on({ branch: 'main' }, { tag: true }), ctx, 'monorepo'), {
    triggered: true,
    trigger: { type: 'tag', tag: 'auth/v1.0.0' },
    tags: ['auth/v1.0.0'],
  });
  // A tag build never counts as a branch push, even on a commit of main.
  assert.equal(evaluateTrigger('auth', on({ branch: 'main' }), ctx, 'monorepo').triggered, false);

  const branchCtx = await readGitContext(repo.dir, { ...NO_CI, GITHUB_REF: 'refs/heads/release/2.0', GITHUB_SHA: first });
  assert.equal(branchCtx.branch, 'release/2.0');
  assert.deepEqual(evaluateTrigger('auth', on({ branch: 'release/.*' }), branchCtx, 'monorepo'), {
    triggered: true,
    trigger: { type: 'branch_push', branch: 'release/2.0' },
    tags: [],
  });
});

test('the git context carries author, message, commit time and the origin remote', async (t) => {
  const repo = makeRepo({ 'a.txt': '1' });
  t.after(() => repo.remove());
  const sha = repo.commit('Add login\n\nwith details');
  repo.git('remote', 'add', 'origin', 'git@github.com:Acme/Mono.git');
  const ctx = await readGitContext(repo.dir, NO_CI);
  assert.equal(ctx.sha, sha);
  assert.equal(ctx.author, 'Alice <alice@example.com>');
  assert.equal(ctx.message, 'Add login\n\nwith details');
  assert.equal(new Date(ctx.committedAt!).toISOString(), '2026-01-02T03:04:05.000Z');
  assert.equal(ctx.remote, 'git@github.com:Acme/Mono.git');
  assert.equal(commitUrl(ctx.remote!, 'acme/mono', sha), `https://github.com/acme/mono/commit/${sha}`);
  assert.equal(commitUrl('https://git.example.com/acme/mono.git', 'acme/mono', sha), `https://git.example.com/acme/mono/commit/${sha}`);
  assert.equal(commitUrl('/srv/git/mono.git', 'acme/mono', sha), undefined);
});

test('enabled: false and a missing release block release nothing, unless manual', async (t) => {
  const repo = makeRepo({ 'a.txt': '1' });
  t.after(() => repo.remove());
  repo.commit();
  const ctx = await readGitContext(repo.dir, NO_CI);
  const disabled = parseReleaseConfig({ on: [{ branch: 'main' }], enabled: false });
  assert.deepEqual(evaluateTrigger('api', disabled, ctx, 'monorepo'), {
    triggered: false,
    reason: 'releases are disabled (release.enabled: false)',
  });
  assert.equal(evaluateTrigger('api', undefined, ctx, 'monorepo').triggered, false);
  assert.deepEqual(evaluateTrigger('api', undefined, ctx, 'monorepo', true), { triggered: true, trigger: { type: 'manual' }, tags: [] });
  assert.deepEqual(evaluateTrigger('api', disabled, ctx, 'monorepo', true), { triggered: true, trigger: { type: 'manual' }, tags: [] });
});

test('release.on is validated: unknown rule shapes and bad regexes name the path', () => {
  assert.throws(() => parseReleaseConfig({ on: [{ branch: 'main' }, { tag: false }] }), /release\.on\[1\]: expected \{branch/);
  assert.throws(() => parseReleaseConfig({ on: [{ branch: '(' }] }), /release\.on\[0\]\.branch: invalid regular expression/);
  assert.throws(() => parseReleaseConfig({ on: [], enabled: 'no' }), /release\.enabled: expected true or false/);
});
