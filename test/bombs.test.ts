/** YAML and CUE bombs are refused within limits (issue 8, acceptance 3); JSON bombs are in fuzz-api. */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlatformConfigError, parsePlatformConfig } from '../src/core/platform-config.js';
import { parsePointer } from '../src/core/pointer.js';
import { CueEngine } from '../src/pipeline/cue-engine.js';
import { loadTaggingStrategy } from '../src/pipeline/project.js';
import { makeRepo } from './support/pipeline-repo.js';

const laughs = (levels: number) =>
  [
    'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...Array.from({ length: levels }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
  ].join('\n');

// How fast these are refused is measured by bench/bombs.ts, against a plain config parsed in the same run.
test('YAML alias expansion (billion laughs), deep nesting and huge strings are refused with located errors', () => {
  for (const [what, text, expected] of [
    // The anchors sit under keys the config does not know; the validator never expands an alias.
    [
      'alias expansion',
      `${laughs(9)}\nenvironments: {}\n`,
      /^invalid platform config bomb\.yaml:\n {2}bomb\.yaml:1:1: unknown key "a0" in the top level; expected one of: environments, repositories, trains\n/,
    ],
    // The YAML parser stops at its own stack limit and reports where: an error of the file, not a crash.
    [
      'deep nesting',
      `environments: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
      /^invalid platform config bomb\.yaml:\n {2}bomb\.yaml:1:\d+: Maximum call stack size exceeded$/,
    ],
    [
      'huge string',
      `environments:\n  dev: { promotion_policy: { allowed_triggers: [manual], allowed_branches: ["${'x'.repeat(5_000_000)}"] } }\n`,
      /^invalid platform config bomb\.yaml:\n {2}bomb\.yaml:1:1: the file is 5000098 characters; a platform config may hold at most 1048576$/,
    ],
  ] as const) {
    assert.throws(
      () => parsePlatformConfig(text, 'bomb.yaml'),
      (err: Error) => {
        assert.ok(err instanceof PlatformConfigError, `${what}: refused as a platform config error, not by a ${err.constructor.name}`);
        assert.match(err.message, expected, what);
        return true;
      },
      what,
    );
  }
  assert.throws(() => parsePointer(`${laughs(9)}\napiVersion: forge.projectcatalyst.io/v1alpha1\n`), {
    name: 'PointerError',
    message: 'release.yaml is not valid YAML: Excessive alias count indicates a resource exhaustion attack',
  });
});

test('a CUE bomb (runaway comprehension) is stopped by the evaluation time limit', async (t) => {
  const repo = makeRepo({
    '.forge/repo.cue':
      'package repo\nimport "list"\ntagging: strategy: "monorepo"\nbomb: [for a in list.Range(0, 100000, 1) for b in list.Range(0, 100000, 1) {a*b}]\n',
  });
  const engine = new CueEngine(3000);
  t.after(async () => {
    await engine.close();
    repo.remove();
  });
  await assert.rejects(loadTaggingStrategy(engine, repo.dir), /did not finish within 3000 ms and was stopped/);
});
