/** Real git repositories for GitOps tests: a bare remote seeded with files, and helpers to read it. */

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_AUTHOR_NAME: 'Outside', GIT_AUTHOR_EMAIL: 'o@x', GIT_COMMITTER_NAME: 'Outside', GIT_COMMITTER_EMAIL: 'o@x' },
  }).trim();
}

/** A bare remote at `<root>/remote.git` whose main branch holds `files` (none: an empty repository). */
export function makeRemote(files: Record<string, string> = {}): { root: string; remote: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'forge-gitops-'));
  const remote = join(root, 'remote.git');
  git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  if (Object.keys(files).length) commitOutside(remote, files, 'seed');
  return { root, remote, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Another party commits `files` to the remote's main branch from its own checkout. */
export function commitOutside(remote: string, files: Record<string, string>, message: string): string {
  const work = mkdtempSync(join(tmpdir(), 'forge-outside-'));
  try {
    git(work, 'init', '-q', '-b', 'main');
    try {
      git(work, 'pull', '-q', remote, 'main');
    } catch {
      // empty remote: nothing to pull
    }
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', message);
    git(work, 'push', '-q', remote, 'HEAD:main');
    return git(work, 'rev-parse', 'HEAD');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function show(remote: string, rev: string, path: string): string | null {
  try {
    return execFileSync('git', ['cat-file', 'blob', `${rev}:${path}`], {
      cwd: remote,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return null;
  }
}
