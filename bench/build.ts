/**
 * Benches that measure the server people run spawn the build (dist/, `npm start`), not the
 * sources under tsx: `buildOnce()` runs `npm run build` first, unless FORGE_BENCH_BUILT says a
 * caller (bench/all.ts) already did in this run.
 */
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../test/support/forge.js';

export function buildOnce(): void {
  if (process.env.FORGE_BENCH_BUILT === '1') return;
  console.error('building (npm run build) so that the bench measures dist/ …');
  const r = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed with exit code ${r.status}`);
  process.env.FORGE_BENCH_BUILT = '1';
}
