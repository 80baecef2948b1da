/**
 * `npm run bench`: runs every benchmark script one after another (they measure the same
 * machine, so never in parallel) and prints one table: figure, value, baseline, ratio, target.
 *   npm run bench [-- registry resolve]   (names pick scripts; default: all)
 * Each script runs with its own defaults; options (sizes, engines, durations) go to a single
 * script: `npx tsx bench/<name>.ts --help` shows them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { scriptUsage } from './args.js';
import { buildOnce } from './build.js';
import { printTable } from './load.js';
import type { Figure } from './report.js';

const ALL = ['registry', 'resolve', 'render', 'cli', 'gitops', 'trains', 'cmp', 'bombs', 'metrics', 'diff', 'healthz', 'overview', 'lists'];
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${scriptUsage(import.meta.url)}\nbenchmarks: ${ALL.join(', ')}\n`);
  process.exit(0);
}
// Every argument is checked before anything runs: a typo must not cost a full run.
const unknown = argv.filter((a) => !ALL.includes(a));
if (unknown.length) {
  process.stderr.write(
    `unknown benchmark or argument ${unknown.map((a) => `"${a}"`).join(', ')}: expected names among ${ALL.join(', ')}` +
      `${unknown.some((a) => a.startsWith('-')) ? ' (options go to one script: npx tsx bench/<name>.ts --help)' : ''}\n`,
  );
  process.exit(2);
}
const chosen = argv.length ? argv : ALL;
const out = join(mkdtempSync(join(tmpdir(), 'forge-bench-')), 'figures.jsonl');
buildOnce(); // once for every script that spawns dist/ (it sets FORGE_BENCH_BUILT for them)

for (const name of chosen) {
  console.error(`\n=== bench/${name}.ts`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, FORGE_BENCH_OUT: out },
  });
  if (r.status !== 0) console.error(`bench/${name}.ts failed with exit code ${r.status}`);
}

const figures: Figure[] = existsSync(out)
  ? readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
const num = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
console.log(
  `\nForge benchmarks, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`,
);
printTable([
  ['figure', 'value', 'baseline', 'ratio', 'target', 'met'],
  ...figures.map((f) => [
    f.figure,
    `${num(f.value)} ${f.unit}`,
    f.baseline === undefined ? '-' : `${num(f.baseline)} ${f.unit}`,
    f.baseline ? (f.value / f.baseline).toFixed(2) : '-',
    f.target,
    f.met ? 'yes' : 'NO',
  ]),
]);
