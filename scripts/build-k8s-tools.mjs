#!/usr/bin/env node
/**
 * Builds the tools the deploy/ manifests are checked with (issue 13 item 6), from source with the
 * machine's Go toolchain, into `k8s-check/bin/` (git-ignored; rebuilt only when its sources are
 * newer):
 *   - `kustomize`: sigs.k8s.io/kustomize/kustomize/v5, pinned in k8s-check/go.mod (`tool`);
 *   - `forge-k8s-check`: k8s-check/main.go, decoding each object strictly into its k8s.io/api
 *     type and Argo CD's kinds against the schemas of Argo CD's published CRDs;
 *   - `argocd/`: Argo CD's CRDs and install.yaml (ARGOCD_VERSION), taken from the
 *     github.com/argoproj/argo-cd/v2 module through the Go module proxy (checked against the Go
 *     checksum database like any module): the Argo CD the deploy/argocd component is tried on.
 * Nothing prebuilt is downloaded. Prints the paths as JSON on stdout.
 *
 *   node scripts/build-k8s-tools.mjs
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ARGOCD_VERSION = 'v2.13.3';
const MIN_GO = [1, 25];
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'k8s-check');
const bin = join(dir, 'bin');
const out = {
  kustomize: join(bin, 'kustomize'),
  checker: join(bin, 'forge-k8s-check'),
  argocdCrds: join(bin, 'argocd', 'crds'),
  argocdInstall: join(bin, 'argocd', 'install.yaml'),
};

function fail(message) {
  process.stderr.write(`build-k8s-tools: ${message}\n`);
  process.exit(1);
}

let goVersion;
try {
  goVersion = execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
} catch {
  fail(`Go ${MIN_GO.join('.')} or newer is needed to build kustomize and the manifest checker; install it from https://go.dev/dl/`);
}
const [major, minor] = (/^go(\d+)\.(\d+)/.exec(goVersion) ?? []).slice(1).map(Number);
if (!(major > MIN_GO[0] || (major === MIN_GO[0] && minor >= MIN_GO[1])))
  fail(`Go ${MIN_GO.join('.')} or newer is needed; found ${goVersion}`);

const newest = Math.max(
  ...readdirSync(dir)
    .filter((n) => /\.(go|mod|sum)$/.test(n))
    .map((n) => statSync(join(dir, n)).mtimeMs),
  statSync(fileURLToPath(import.meta.url)).mtimeMs,
);
const fresh = (p) => existsSync(p) && statSync(p).mtimeMs > newest;
const go = (args, opts = {}) => {
  try {
    return execFileSync('go', args, {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      ...opts,
      env: { ...process.env, CGO_ENABLED: '0', ...opts.env },
    });
  } catch {
    fail(`go ${args.join(' ')} failed in ${opts.cwd ?? dir}`);
  }
};

mkdirSync(bin, { recursive: true });
if (!fresh(out.checker)) {
  process.stderr.write(
    `build-k8s-tools: building ${out.checker} with ${goVersion} (a first build fetches k8s.io/api through the Go module proxy)\n`,
  );
  go(['build', '-trimpath', '-buildvcs=false', '-mod=readonly', '-o', out.checker, '.']);
}
if (!fresh(out.kustomize)) {
  process.stderr.write(`build-k8s-tools: building ${out.kustomize} from sigs.k8s.io/kustomize/kustomize/v5 (k8s-check/go.mod)\n`);
  go(['build', '-trimpath', '-buildvcs=false', '-mod=readonly', '-o', out.kustomize, 'sigs.k8s.io/kustomize/kustomize/v5']);
}
if (!fresh(out.argocdInstall)) {
  process.stderr.write(
    `build-k8s-tools: fetching Argo CD ${ARGOCD_VERSION}'s manifests (module github.com/argoproj/argo-cd/v2) through the Go module proxy\n`,
  );
  // Outside any module, so k8s-check/go.mod does not take Argo CD's dependencies in.
  const scratch = mkdtempSync(join(tmpdir(), 'forge-argocd-'));
  try {
    const info = JSON.parse(
      go(['mod', 'download', '-json', `github.com/argoproj/argo-cd/v2@${ARGOCD_VERSION}`], {
        cwd: scratch,
        env: { GO111MODULE: 'on', GOFLAGS: '-mod=mod' },
      }),
    );
    if (!info.Dir) fail(`go mod download answered no directory for Argo CD ${ARGOCD_VERSION}: ${info.Error ?? ''}`);
    rmSync(join(bin, 'argocd'), { recursive: true, force: true });
    mkdirSync(out.argocdCrds, { recursive: true });
    for (const f of readdirSync(join(info.Dir, 'manifests', 'crds')).filter((n) => n.endsWith('-crd.yaml')))
      copyFileSync(join(info.Dir, 'manifests', 'crds', f), join(out.argocdCrds, f));
    copyFileSync(join(info.Dir, 'manifests', 'install.yaml'), out.argocdInstall);
    writeFileSync(join(bin, 'argocd', 'VERSION'), `${ARGOCD_VERSION}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
process.stdout.write(`${JSON.stringify(out)}\n`);
