/** YAML and CUE bombs are refused within limits (issue 8, acceptance 3); JSON bombs are in fuzz-api. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlatformConfig } from '../src/core/platform-config.js';
import { parsePointer } from '../src/core/pointer.js';
import { CueEngine } from '../src/pipeline/cue-engine.js';
import { loadTaggingStrategy } from '../src/pipeline/project.js';
import { makeRepo } from './support/pipeline-repo.js';

const laughs = (levels: number) => ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]',
  ...Array.from({ length: levels }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)].join('\n');

test('YAML alias expansion (billion laughs), deep nesting and huge strings: clear errors, quickly', () => {
  for (const [what, text, expected] of [
    ['alias expansion', `${laughs(9)}\nenvironments: {}\n`, /alias|unknown key "a0"/i],
    ['deep nesting', `environments: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`, /./],
    ['huge string', `environments:\n  dev: { promotion_policy: { allowed_triggers: [manual], allowed_branches: ["${'x'.repeat(5_000_000)}"] } }\n`, /at most 1048576/],
  ] as const) {
    const t0 = performance.now();
    assert.throws(() => parsePlatformConfig(text, 'bomb.yaml'), (err: Error) => {
      assert.ok(!(err instanceof RangeError), `${what}: refused cleanly, not by a stack overflow`);
      assert.match(err.message, expected, what);
      return true;
    }, what);
    assert.ok(performance.now() - t0 < 5000, `${what}: refused within limits`);
  }
  assert.throws(() => parsePointer(`${laughs(9)}\napiVersion: forge.projectcatalyst.io/v1alpha1\n`), /alias|pointer|release\.yaml|spec/i);
});

test('a CUE bomb (runaway comprehension) is stopped by the evaluation time limit', async (t) => {
  const repo = makeRepo({ '.forge/repo.cue': 'package repo\nimport "list"\ntagging: strategy: "monorepo"\nbomb: [for a in list.Range(0, 100000, 1) for b in list.Range(0, 100000, 1) {a*b}]\n' });
  const engine = new CueEngine(3000);
  t.after(async () => { await engine.close(); repo.remove(); });
  await assert.rejects(loadTaggingStrategy(engine, repo.dir), /did not finish within 3000 ms and was stopped/);
});
