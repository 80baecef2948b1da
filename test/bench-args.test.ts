/**
 * The bench scripts' command lines (issue #18 review): `npm run bench -- --help` and each
 * script's `--help` print usage and exit 0 instead of a stack trace; `npm run bench` refuses an
 * unknown argument before running anything (options go to one script, not to bench/all.ts);
 * a script refuses an unknown option with its usage, exit 2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { REPO_ROOT } from './support/forge.js';

/** A line of a stack trace (`    at fn (file:line:column)`). */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

const bench = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', `bench/${script}.ts`, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });

test('npm run bench -- --help names the benchmarks and where their options go', () => {
  const r = bench('all', ['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^benchmarks: .*\blists\b/m);
  assert.match(r.stdout, /npx tsx bench\/<name>\.ts --help/);
  assert.doesNotMatch(r.stderr, STACK, 'no stack trace');
});

test('npm run bench refuses an unknown argument before running any benchmark', () => {
  const r = bench('all', ['lists', '--projects', '10']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /unknown benchmark or argument "--projects", "10"/);
  assert.match(r.stderr, /npx tsx bench\/<name>\.ts --help/);
  assert.doesNotMatch(r.stderr, /=== bench\//, 'nothing ran');
});

for (const script of ['bombs', 'cmp', 'gitops', 'healthz', 'lists', 'metrics', 'overview', 'registry', 'resolve', 'soak', 'trains'])
  test(`bench/${script}.ts --help prints its header and usage line and exits 0`, () => {
    const help = bench(script, ['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /bench\/[\w-]+\.ts|npm run \w+/, 'the usage line');
    assert.doesNotMatch(help.stdout, /^\s*\*/m, 'comment markers stripped');
  });

test('a bench script refuses an unknown option with its usage, exit 2, no stack trace', () => {
  const bad = bench('lists', ['--no-such-option']);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /Unknown option '--no-such-option'/);
  assert.match(bad.stderr, /npx tsx bench\/lists\.ts \[--engine/);
  assert.doesNotMatch(bad.stderr, STACK, 'no stack trace');
});
