import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertUniqueNames, discoverProjects, findModuleRoot, findRepoRoot } from '../src/pipeline/discovery.js';
import { makeRepo, projectCue } from './support/pipeline-repo.js';

test('discovery finds every project below the repository root, and the root from any subdirectory', async (t) => {
  const repo = makeRepo({
    '.forge/repo.cue': 'package repo\ntagging: strategy: "monorepo"\n',
    'cue.mod/module.cue': 'module: "example.org/mono"\n',
    'services/auth/.forge/project.cue': projectCue('auth'),
    'services/billing/.forge/project.cue': projectCue('billing'),
    'web/.forge/project.cue': projectCue('web'),
    'node_modules/pkg/.forge/project.cue': projectCue('ignored'),
    'docs/readme.md': 'no project here',
  });
  t.after(() => repo.remove());
  repo.commit();
  assert.equal(await findRepoRoot(join(repo.dir, 'services/auth')), repo.dir);
  const found = await discoverProjects(repo.dir);
  assert.deepEqual(
    found.map((p) => p.relDir),
    ['web', 'services/auth', 'services/billing'],
  );
  assert.equal(found[0].dir, join(repo.dir, 'web'));
  assert.equal(await findModuleRoot(join(repo.dir, 'services/auth'), repo.dir), repo.dir);
});

test('a nested .forge inside a project is an error naming both paths', async (t) => {
  const repo = makeRepo({
    'svc/.forge/project.cue': projectCue('svc'),
    'svc/-tools/.forge/project.cue': projectCue('tools'),
  });
  t.after(() => repo.remove());
  await assert.rejects(discoverProjects(repo.dir), (err: Error & { details?: { paths: string[] } }) => {
    assert.match(err.message, /svc\/-tools\/\.forge is inside project svc\/\.forge/);
    assert.deepEqual(err.details?.paths, ['svc/.forge', 'svc/-tools/.forge']);
    return true;
  });
});

test('a .forge below a root project is nested too; a root .forge with only repo.cue is not a project', async (t) => {
  const rootProject = makeRepo({ '.forge/project.cue': projectCue('root'), 'a/.forge/project.cue': projectCue('a') });
  t.after(() => rootProject.remove());
  await assert.rejects(discoverProjects(rootProject.dir), /a\/\.forge is inside project \.forge;/);

  const repoOnly = makeRepo({ '.forge/repo.cue': 'package repo\n', 'a/.forge/project.cue': projectCue('a') });
  t.after(() => repoOnly.remove());
  assert.deepEqual(
    (await discoverProjects(repoOnly.dir)).map((p) => p.relDir),
    ['a'],
  );
});

test('two projects with one name is an error naming both paths', () => {
  assert.throws(
    () =>
      assertUniqueNames([
        { name: 'api', relDir: 'a' },
        { name: 'web', relDir: 'b' },
        { name: 'api', relDir: 'c/d' },
      ]),
    /two projects are named "api": a\/\.forge\/project\.cue and c\/d\/\.forge\/project\.cue/,
  );
  assert.doesNotThrow(() =>
    assertUniqueNames([
      { name: 'api', relDir: 'a' },
      { name: 'web', relDir: 'b' },
    ]),
  );
});
