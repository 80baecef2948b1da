// Runs every test file under test/ with node:test and tsx. Node 20 does not look for .ts
// files in a folder by itself, so the files are listed here and passed explicitly.
// `npm test -- test/foo.test.ts` runs only the files named.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []);
}
const named = process.argv.slice(2);
const files = named.length ? named : find('test').sort();
const concurrency = process.env.FORGE_TEST_CONCURRENCY ?? '3';
const r = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...files],
  { stdio: 'inherit' });
process.exit(r.status ?? 1);
