#!/usr/bin/env node
/**
 * Builds Forge's CUE engine from source (docs/cue.md): `cue-helper/` (cuelang.org/go, pinned in
 * cue-helper/go.mod and go.sum) compiled with the machine's Go toolchain into
 * `cue-helper/bin/forge-cue`. Nothing prebuilt is downloaded; Go modules come through the Go
 * module proxy (GOPROXY) into the Go module cache. Skipped when the binary is newer than its
 * sources. Run by `npm install` (prepare → build) and `npm test` (pretest).
 *
 *   node scripts/build-cue.mjs          # the native helper Forge uses
 *   node scripts/build-cue.mjs --wasm   # also the WebAssembly build, only to re-measure docs/cue.md
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_GO = [1, 25]; // what cuelang.org/go v0.17 requires (cue-helper/go.mod)
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'cue-helper');
const out = join(dir, 'bin', 'forge-cue');

function fail(message) {
  process.stderr.write(`build-cue: ${message}\n`);
  process.exit(1);
}

let goVersion;
try {
  goVersion = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
} catch {
  fail(
    `Go ${MIN_GO.join('.')} or newer is needed to build the CUE engine and was not found on PATH; install it from https://go.dev/dl/ (or your package manager), then run \`npm run build:cue\``,
  );
}
const [major, minor] = (/^go(\d+)\.(\d+)/.exec(goVersion) ?? []).slice(1).map(Number);
if (!(major > MIN_GO[0] || (major === MIN_GO[0] && minor >= MIN_GO[1]))) {
  fail(`Go ${MIN_GO.join('.')} or newer is needed to build the CUE engine; found ${goVersion}`);
}

const sources = readdirSync(dir)
  .filter((n) => /\.(go|mod|sum)$/.test(n))
  .map((n) => statSync(join(dir, n)).mtimeMs);
const wasm = process.argv.includes('--wasm');
if (!wasm && existsSync(out) && statSync(out).mtimeMs > Math.max(...sources)) process.exit(0);

const build = (env, output) => {
  process.stderr.write(
    `build-cue: building ${output} with ${goVersion} (a first build also fetches cuelang.org/go through the Go module proxy)\n`,
  );
  try {
    execFileSync('go', ['build', '-trimpath', '-buildvcs=false', '-mod=readonly', '-o', output, '.'], {
      cwd: dir,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
  } catch {
    fail(`go build failed in ${dir}`);
  }
};
build({ CGO_ENABLED: '0' }, out);
if (wasm) build({ GOOS: 'js', GOARCH: 'wasm' }, join(dir, 'bin', 'forge-cue.wasm'));
