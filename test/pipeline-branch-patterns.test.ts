/**
 * Issue 14 review item 1: a branch pattern no git branch name can match is refused wherever it is
 * written — `release.on` of `.forge/project.cue` (`branch` regex, `glob`) and forge.yaml's
 * `allowed_branches` — with the file, the field, the pattern and what is expected. Decided by
 * intersecting the pattern with git's branch-name rules (core/branch-patterns.ts), so every kind
 * of dead pattern is caught, not a list of known ones.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { neverMatchesProblem } from '../src/core/branch-patterns.js';
import { PlatformConfigError, parsePlatformConfig } from '../src/core/platform-config.js';
import { isValidRefName } from '../src/core/ref-names.js';
import { branchMatches, parseReleaseConfig } from '../src/core/triggers.js';
import { CueEngine } from '../src/pipeline/cue-engine.js';
import { evaluateProject, readProjectSource } from '../src/pipeline/project.js';
import { makeRepo } from './support/pipeline-repo.js';

const NEVER_REGEX = [
  'main$x', // an end anchor followed by more text
  'a^b', // a start anchor after text
  '(main|dev)$/x',
  'release/.*\\.lock', // every match ends a component with .lock
  '.*\\.\\..*', // every match holds ".."
  'feature/[ ~]+', // only characters git forbids
  '-.*', // a leading "-"
  'x/', // a trailing "/"
  'a//b',
  '@',
  '[]', // an empty class
];
const FINE_REGEX = ['main', '^main$', 'release/.*', 'v[0-9]+\\.[0-9]+', '(a|b)*x', 'x$|main', 'feature/[^/]+', 'hot-?fix/.+', 'a{2,3}'];
const NEVER_GLOB = ['-*', 'release/*.lock', '@'];
const FINE_GLOB = ['release/*', '*', 'feat-?', 'main$x'];

test('a pattern is refused exactly when no valid git branch name matches it; the reason says which kind of dead pattern it is', () => {
  for (const p of NEVER_REGEX) assert.ok(neverMatchesProblem('regex', p), `regex ${p} can never match`);
  for (const p of FINE_REGEX) assert.equal(neverMatchesProblem('regex', p), undefined, `regex ${p} can match`);
  for (const p of NEVER_GLOB) assert.ok(neverMatchesProblem('glob', p), `glob ${p} can never match`);
  for (const p of FINE_GLOB) assert.equal(neverMatchesProblem('glob', p), undefined, `glob ${p} can match`);
  assert.match(neverMatchesProblem('regex', 'main$x')!, /matches no text at all: a "\^" after the start or a "\$" before the end/);
  assert.match(neverMatchesProblem('regex', 'release/.*\\.lock')!, /matches only names git refuses for a branch \(such as "[^"]+", which /);
});

test("the analysis agrees with the real RegExp and git rules on every short name over an alphabet of git's special characters", () => {
  const alphabet = ['a', '.', '/', '-', '@', '{', ' '];
  const names: string[] = [''];
  for (let len = 0; len < 4; len++) for (const n of names.filter((x) => x.length === len)) for (const c of alphabet) names.push(n + c);
  const valid = names.filter(isValidRefName);
  const patterns = ['a.', '\\.a', 'a/\\.', '-a', '@\\{', 'a@', '.*/', 'a$', '(a|\\.)\\.?', '/a', 'a\\.\\.', 'a/.a', 'a/a', '@', 'a.\\{'];
  let refused = 0;
  for (const p of patterns) {
    const matchesValid = valid.some((n) => branchMatches(p, n));
    const problem = neverMatchesProblem('regex', p);
    if (problem) {
      refused++;
      assert.equal(matchesValid, false, `${p} is refused but matches a valid name`);
    } else assert.equal(matchesValid, true, `${p} is accepted and matches no valid name of up to 4 characters`);
  }
  assert.ok(refused >= 6, `several of the patterns are dead (${refused})`);
});

test('release.on: the refusal names the field, the pattern and what is expected', () => {
  for (const p of NEVER_REGEX.filter((x) => x !== '[]')) {
    assert.throws(
      () => parseReleaseConfig({ on: [{ branch: 'main' }, { branch: p }] }),
      (e: Error) => e.message.includes('release.on[1].branch') && e.message.includes(`branch "${p}" can never match`),
      p,
    );
  }
  for (const p of NEVER_GLOB)
    assert.throws(
      () => parseReleaseConfig({ on: [{ glob: p }] }),
      new RegExp(`release\\.on\\[0\\]\\.glob: branch glob "${p.replace(/[.*]/g, '\\$&')}" can never match`),
    );
});

test('.forge/project.cue: the error names the file and line of the pattern, the field, and what the field expects', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': 'module: "example.org/m"\nlanguage: version: "v0.12.0"\n',
    'svc/.forge/project.cue': 'package project\n\nname: "svc"\nrelease: on: [\n\t{branch: "main"},\n\t{branch: "main$x"},\n]\n',
  });
  const engine = new CueEngine();
  t.after(async () => {
    await engine.close();
    repo.remove();
  });
  const evaluate = async () => evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir));
  await assert.rejects(evaluate(), (e: Error) => {
    assert.match(e.message, /^svc\/\.forge\/project\.cue:6: release\.on\[1\]\.branch: branch "main\$x" can never match/);
    assert.match(e.message, /expected a regular expression matched against the whole branch name, such as "main" or "release\/\.\*"/);
    return true;
  });
  repo.write('svc/.forge/project.cue', 'package project\n\nname: "svc"\nrelease: on: [{glob: "release/*.lock"}]\n');
  await assert.rejects(evaluate(), (e: Error) => {
    assert.match(e.message, /^svc\/\.forge\/project\.cue:4: release\.on\[0\]\.glob: branch glob "release\/\*\.lock" can never match/);
    assert.match(e.message, /expected a branch glob where \* matches any characters and \? one/);
    return true;
  });
});

test('forge.yaml: allowed_branches that can never match is refused with file, line, field, pattern and what is expected', () => {
  const yaml = (glob: string) =>
    `environments:\n  prod:\n    promotion_policy:\n      allowed_triggers: [tag]\n      allowed_branches: ["${glob}"]\n`;
  for (const glob of NEVER_GLOB) {
    assert.throws(
      () => parsePlatformConfig(yaml(glob), '/etc/forge/forge.yaml'),
      (e: Error) => {
        assert.ok(e instanceof PlatformConfigError);
        assert.match(e.message, /\/etc\/forge\/forge\.yaml:5:\d+: bad branch pattern/);
        assert.ok(e.message.includes(`"${glob}" in environments.prod.promotion_policy.allowed_branches`), e.message);
        assert.match(e.message, /expected a branch name where \* matches any characters and \? one/);
        return true;
      },
      glob,
    );
  }
  assert.deepEqual(parsePlatformConfig(yaml('release/*')).environments[0].policy.allowedBranches, ['release/*']);
});
