/** Unit tests of src/core/aliases.ts: tag and branch aliases, and how a reference may be read (DESIGN.md §3). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  branchAlias,
  branchProblem,
  futureBranchAliasProblem,
  referenceForms,
  tagAlias,
  tagAliases,
  tagProblem,
} from '../../src/core/aliases.js';

test('monorepo: only <project>/v* tags count, without the project prefix', () => {
  const tags = ['auth-service/v1.2.3', 'auth-service/v1.2.3', 'billing/v2.0.0', 'auth-service/beta', 'v9.9.9', 'auth-service-x/v1.0.0'];
  assert.deepEqual(tagAliases('auth-service', tags, 'monorepo'), ['v1.2.3']);
});

test('tag-all: every tag counts as it is, duplicates once, order kept', () => {
  assert.deepEqual(tagAliases('auth-service', ['v2', 'auth-service/v1', 'v2', 'latest'], 'tag-all'), ['v2', 'auth-service/v1', 'latest']);
  assert.deepEqual(tagAliases('auth-service', [], 'tag-all'), []);
});

test('branch aliases replace every slash and end with the release number', () => {
  assert.equal(branchAlias('main', 7), 'main-7');
  assert.equal(branchAlias('release/1.2', 7), 'release-1.2-7');
  assert.equal(branchAlias('feature/a/b', 12), 'feature-a-b-12');
});

test('a reference is read as a number (1 to 2^31-1, no leading zero) and/or a sha prefix (7 to 64 hex)', () => {
  assert.deepEqual(referenceForms('42'), { number: 42 });
  assert.deepEqual(referenceForms('2147483647'), { number: 2_147_483_647, shaPrefix: '2147483647' });
  assert.deepEqual(referenceForms('2147483648'), { shaPrefix: '2147483648' }, 'beyond a 32-bit int it is no number');
  assert.deepEqual(referenceForms('1234567'), { number: 1_234_567, shaPrefix: '1234567' }, 'both readings, the caller decides');
  assert.deepEqual(referenceForms('0'), {});
  assert.deepEqual(referenceForms('007'), {});
  assert.deepEqual(referenceForms('ABCDEF0'), { shaPrefix: 'abcdef0' }, 'sha prefixes are lower-cased');
  assert.deepEqual(referenceForms('abcdef'), {}, 'six hex characters are too short for a sha prefix');
  assert.deepEqual(referenceForms('a'.repeat(64)), { fullSha: 'a'.repeat(64), shaPrefix: 'a'.repeat(64) });
  assert.deepEqual(referenceForms('A'.repeat(40)), { fullSha: 'a'.repeat(40), shaPrefix: 'a'.repeat(40) });
  assert.deepEqual(referenceForms('a'.repeat(41)), { shaPrefix: 'a'.repeat(41) }, 'only 40 or 64 hex is a full sha');
  assert.deepEqual(referenceForms('a'.repeat(65)), {});
  assert.deepEqual(referenceForms('v1.2.3'), {});
  assert.deepEqual(referenceForms('-1'), {});
});

test('a tag alias may not be a full-length sha in any case (issue #13 item 3); shorter hex and numbers may', () => {
  for (const t of ['a'.repeat(40), 'A'.repeat(40), '0'.repeat(64), `${'f'.repeat(39)}E`])
    assert.match(tagProblem(t) ?? 'accepted', /always names a commit/, t);
  for (const t of ['a'.repeat(39), 'a'.repeat(41), 'a'.repeat(63), 'deadbee', '3', '0123', 'v1.2.3'])
    assert.equal(tagProblem(t), undefined, t);
});

test('tag and branch names follow git ref-name rules (issue #13 item 4, issue #12 item 9)', () => {
  for (const t of ['a..b', '@{x}', 'v1\nApproved by: ceo@example.com', 'a b', '-x', 'x.lock']) {
    assert.match(tagProblem(t) ?? 'accepted', /not a valid git tag name/, t);
    assert.match(branchProblem(t) ?? 'accepted', /not a valid git branch name/, t);
  }
  assert.equal(tagProblem('a,b'), undefined, 'git allows a comma: the pointer escapes it instead');
  assert.equal(branchProblem('release/1.2'), undefined);
});

test('the alias of one tag: under monorepo only <project>/v*, under tag-all the tag itself', () => {
  assert.equal(tagAlias('web', 'web/v1', 'monorepo'), 'v1');
  assert.equal(tagAlias('web', 'web/beta', 'monorepo'), undefined);
  assert.equal(tagAlias('web', 'api/v1', 'monorepo'), undefined);
  assert.equal(tagAlias('web', 'api/v1', 'tag-all'), 'api/v1');
});

test('review F3: a tag alias of the form <branch>-<n> is refused only for numbers not yet allocated', () => {
  const released = new Set(['main', 'release-1.2']);
  assert.match(futureBranchAliasProblem('main-4', 4, released) ?? '', /release 4 of a branch "main"/);
  assert.match(futureBranchAliasProblem('release-1.2-9', 4, released) ?? '', /release 9/);
  assert.equal(futureBranchAliasProblem('main-3', 4, released), undefined, 'release 3 exists: never derived for another');
  assert.equal(futureBranchAliasProblem('rel/main-9', 4, released), undefined, 'a derived alias has no /');
  assert.equal(futureBranchAliasProblem('main-04', 4, released), undefined, 'no release number has a leading zero');
  for (const a of ['main', 'v1.2.3', 'main.4', '4', '-4']) assert.equal(futureBranchAliasProblem(a, 1, released), undefined, a);
  // Release candidates and dated tags stay usable while no branch of that name releases the project.
  for (const a of ['v2.0.0-rc-7', 'deploy-2026', 'release-7']) assert.equal(futureBranchAliasProblem(a, 1, released), undefined, a);
});
