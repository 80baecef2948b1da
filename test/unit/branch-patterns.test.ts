/** Branch patterns of `release.on` (issue 14): regexes in `branch`, globs in `glob`, and an error for one that can never match. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateTrigger, parseReleaseConfig } from '../../src/core/triggers.js';

const decide = (on: unknown[], branch: string) =>
  evaluateTrigger('api', parseReleaseConfig({ on }), { branch, tags: [] }, 'monorepo').triggered;

test('{glob} matches as forge.yaml does, {branch} as a regular expression over the whole name', () => {
  assert.equal(decide([{ glob: 'release/*' }], 'release/1.x'), true);
  assert.equal(decide([{ glob: 'release/*' }], 'release'), false);
  assert.equal(decide([{ glob: 'feat-?' }], 'feat-a'), true);
  assert.equal(decide([{ glob: 'main' }], 'main2'), false);
  assert.equal(decide([{ branch: 'release/.*' }], 'release/1.x'), true);
  assert.equal(decide([{ branch: 'main|develop' }], 'develop'), true);
  assert.equal(decide([{ branch: 'main' }], 'xmainx'), false);
});

test('a glob written as a branch regex is refused with both fixes spelled out', () => {
  for (const pattern of ['release/*', '*', 'feature/*/wip', '*-hotfix']) {
    assert.throws(
      () => parseReleaseConfig({ on: [{ branch: pattern }] }),
      (e: Error) =>
        e.message.includes(`"${pattern}" is a glob, not a regular expression`) && e.message.includes(`write {glob: "${pattern}"}`),
      pattern,
    );
  }
  // Ordinary regexes with stars are fine.
  for (const pattern of ['release/.*', 'v[0-9]+', '(a|b)*']) assert.ok(parseReleaseConfig({ on: [{ branch: pattern }] }));
});

test('a pattern no git branch name can match is an error naming the field', () => {
  const bad: [unknown, RegExp][] = [
    [{ glob: 'release/..' }, /release\.on\[0\]\.glob.*can never match: it contains "\.\."/s],
    [{ glob: 'has space' }, /can never match: it contains a character git forbids/],
    [{ glob: 'ends/' }, /can never match/],
    [{ branch: 'with space' }, /release\.on\[0\]\.branch.*branch "with space" can never match/s],
    [{ branch: 'a~b' }, /can never match/],
    [{ branch: '(' }, /invalid regular expression/],
    [{ glob: 'x', branch: 'y' }, /expected \{branch: "<regex>"\}, \{glob: "<glob>"\} or \{tag: true\}/],
  ];
  for (const [rule, message] of bad) assert.throws(() => parseReleaseConfig({ on: [rule] }), message, JSON.stringify(rule));
});
