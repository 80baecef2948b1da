// Runs every test file under test/ with node:test and tsx. Node 20 does not look for .ts
// files in a folder by itself, so the files are listed here and passed explicitly.
// `npm test -- test/foo.test.ts` runs only the files named.
// `npm run test:unit` (`--unit`) runs only the tests that need no server, registry, database
// or git: test/unit/** and the older pure test files named below. Issue #11 wants them under
// 10 seconds, so the run prints how long it took.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Test files outside test/unit that exercise only src/core (no I/O beyond memory). */
const PURE_ELSEWHERE = [
  'test/artifact-refs.test.ts',
  'test/duration.test.ts',
  'test/gitops-pointer.test.ts',
  'test/manifests.test.ts',
  'test/platform-config.test.ts',
  'test/policy.test.ts',
  'test/release-image.test.ts',
];

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const named = args.filter((a) => a !== '--unit');
let files;
if (named.length) files = named;
else if (unit) {
  const gone = PURE_ELSEWHERE.filter((f) => !existsSync(f));
  if (gone.length)
    throw new Error(`scripts/run-tests.mjs names pure test files that no longer exist: ${gone.join(', ')}; update PURE_ELSEWHERE`);
  files = [...find('test/unit'), ...PURE_ELSEWHERE].sort();
} else files = find('test').sort();

const started = performance.now();
// Unit tests are pure, so they share one process: starting tsx once per file would cost more
// than the tests themselves. The others get a process each (node --test), three at a time.
const IMPORT_ALL = "import { pathToFileURL } from 'node:url'; for (const f of process.argv.slice(1)) await import(pathToFileURL(f).href);";
// A file's whole run counts as one test against --test-timeout: the fuzz suite (a thousand
// bodies on each of the JSON routes) needs about five minutes on a loaded 2-core machine, and more
// with every route added (it timed out at 15 minutes beside other work), so 30 minutes per file.
const nodeArgs = unit
  ? ['--import', 'tsx', '--input-type=module', '-e', IMPORT_ALL, ...files]
  : ['--import', 'tsx', '--test', `--test-concurrency=${process.env.FORGE_TEST_CONCURRENCY ?? '3'}`, '--test-timeout=1800000', ...files];
const r = spawnSync(process.execPath, nodeArgs, { stdio: 'inherit' });
if (unit) console.log(`unit tests: ${files.length} files in ${((performance.now() - started) / 1000).toFixed(1)} s (target: under 10 s)`);
process.exit(r.status ?? 1);
