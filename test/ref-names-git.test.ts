/**
 * src/core/ref-names.ts against git itself (issue #13 item 4): for thousands of generated names
 * built from the characters and sequences the rules are about, the pure implementation and
 * `git check-ref-format --branch` (and `refs/tags/<name>`) agree on every one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { refNameProblem } from '../src/core/ref-names.js';

const PIECES = [
  'a',
  'b',
  'Z',
  '0',
  '9',
  '.',
  '..',
  '/',
  '//',
  '@',
  '@{',
  '{',
  '}',
  '-',
  '_',
  ',',
  ' ',
  '~',
  '^',
  ':',
  '?',
  '*',
  '[',
  '\\',
  '.lock',
  'é',
  '\t',
  '\x7f',
  'HEAD',
  '"',
  '+',
  '#',
];

/** Deterministic pseudo-random generator (mulberry32), so a failure names a reproducible name. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function names(count: number): string[] {
  const r = rng(13);
  const out = new Set<string>();
  while (out.size < count) {
    const n = 1 + Math.floor(r() * 5);
    out.add(Array.from({ length: n }, () => PIECES[Math.floor(r() * PIECES.length)]).join(''));
  }
  return [...out];
}

/** One git process judges every name: `git check-ref-format` per line through a shell loop. */
function gitVerdicts(list: string[], mode: 'branch' | 'tag'): boolean[] {
  const script =
    mode === 'branch'
      ? 'while IFS= read -r n; do if git check-ref-format --branch "$n" >/dev/null 2>&1; then echo 1; else echo 0; fi; done'
      : 'while IFS= read -r n; do if git check-ref-format "refs/tags/$n" >/dev/null 2>&1; then echo 1; else echo 0; fi; done';
  const res = spawnSync('sh', ['-c', script], { input: `${list.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 24 });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout
    .trim()
    .split('\n')
    .map((l) => l === '1');
}

test('the pure rules agree with git check-ref-format on generated branch and tag names', () => {
  const list = names(1500).filter((n) => !n.includes('\n'));
  const branch = gitVerdicts(list, 'branch');
  const tag = gitVerdicts(list, 'tag');
  const disagreements: string[] = [];
  list.forEach((n, i) => {
    // git branch and git tag both refuse a leading "-" and "HEAD" as a name on top of the format
    // rules; Forge also refuses a lone "@" (git reads it as HEAD in revisions) though
    // `refs/tags/@` is well-formed.
    const gitAccepts = branch[i] && tag[i] && !n.startsWith('-') && n !== 'HEAD' && n !== '@';
    if ((refNameProblem(n) === undefined) !== gitAccepts)
      disagreements.push(`${JSON.stringify(n)}: git ${gitAccepts}, forge ${refNameProblem(n) ?? 'ok'}`);
  });
  assert.deepEqual(disagreements, []);
  assert.ok(branch.some(Boolean) && branch.some((b) => !b), 'the sample holds both accepted and refused names');
});
