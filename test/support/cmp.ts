/**
 * Running the Argo CD plugin in tests exactly as Argo CD's cmp-server does: a separate process
 * whose working directory is the Application's source path (the pointer folder), with Argo CD's
 * environment and nothing inherited from the test process but PATH.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pointerPath, type ReleasePointer, renderPointer } from '../../src/core/pointer.js';
import { REPO_ROOT } from './forge.js';

const TSX = import.meta.resolve('tsx');
export const CMP_MAIN = join(REPO_ROOT, 'src/cmp/main.ts');
export const FORGE_MAIN = join(REPO_ROOT, 'src/cli/main.ts');

export interface CmpResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Argo CD's variables for an Application whose source path is `sourcePath` in the GitOps repository. */
export function argoEnv(sourcePath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ARGOCD_APP_NAME: sourcePath
      .split('/')
      .filter((s) => s !== 'apps')
      .join('-'),
    ARGOCD_APP_NAMESPACE: 'argocd',
    ARGOCD_APP_REVISION: 'f'.repeat(40),
    ARGOCD_APP_SOURCE_PATH: sourcePath,
    ARGOCD_APP_SOURCE_REPO_URL: 'https://git.example.com/platform/gitops.git',
    ARGOCD_APP_SOURCE_TARGET_REVISION: 'main',
    ARGOCD_ENV_FORGE_NOTE: 'set on the Application',
    ...extra,
  };
}

/** Runs `forge-cmp <args>` (or `forge cmp <args>` with `via: 'forge'`) in `cwd` with exactly `env` (plus PATH and HOME). */
export function runPlugin(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  via: 'forge-cmp' | 'forge' = 'forge-cmp',
): Promise<CmpResult> {
  const entry = via === 'forge' ? [FORGE_MAIN, 'cmp'] : [CMP_MAIN];
  return runNode(['--import', TSX, ...entry, ...args], cwd, env);
}

/** Runs `node …argv` as Argo CD runs the plugin: a new process in `cwd` with exactly `env` (plus PATH, and HOME unless given). */
export function runNode(argv: string[], cwd: string, env: Record<string, string>): Promise<CmpResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, argv, {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: env.HOME ?? cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function pointerFor(over: Partial<ReleasePointer> & Pick<ReleasePointer, 'release' | 'digest'>): ReleasePointer {
  return {
    repository: 'acme/mono',
    project: 'auth-service',
    environment: 'production',
    releaseNumber: 1,
    aliases: ['1'],
    deploymentId: '00000000-0000-4000-8000-000000000001',
    deployedBy: 'alice@example.com',
    deployedAt: '2026-01-01T00:00:00Z',
    approvedBy: [],
    ...over,
  };
}

/** Writes the pointer where the GitOps writer puts it under `root`; returns its folder and its source path. */
export function writePointer(root: string, pointer: ReleasePointer, text = renderPointer(pointer)): { dir: string; sourcePath: string } {
  const sourcePath = dirname(pointerPath(pointer));
  const dir = join(root, sourcePath);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'release.yaml'), text);
  return { dir, sourcePath };
}
