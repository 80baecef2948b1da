/**
 * Changes to a GitOps remote made outside Forge, as people make them (issue #12 item 1): the
 * branch squashed and force-pushed, a commit reverted, a pointer edited or deleted by hand, the
 * branch deleted and recreated. Each works in its own throwaway clone and pushes to `main`.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from './gitops.js';

function inClone<T>(remote: string, fn: (work: string) => T): T {
  const work = mkdtempSync(join(tmpdir(), 'forge-outside-'));
  try {
    git(work, 'clone', '-q', '-b', 'main', remote, '.');
    return fn(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Squashes the whole branch into one new root commit with the same tree and force-pushes it; answers the new tip. */
export function squashAndForcePush(remote: string): string {
  return inClone(remote, (work) => {
    git(work, 'checkout', '-q', '--orphan', 'squashed');
    git(work, 'commit', '-q', '-m', 'squash everything');
    git(work, 'push', '-q', '--force', 'origin', 'squashed:main');
    return git(work, 'rev-parse', 'HEAD');
  });
}

/** Reverts the tip commit (a Forge deployment) and pushes; answers the new tip. */
export function revertTip(remote: string): string {
  return inClone(remote, (work) => {
    git(work, 'revert', '--no-edit', 'HEAD');
    git(work, 'push', '-q', 'origin', 'main');
    return git(work, 'rev-parse', 'HEAD');
  });
}

/** Writes `content` to `path` by hand (null deletes it) and pushes; answers the new tip. */
export function editByHand(remote: string, path: string, content: string | null): string {
  return inClone(remote, (work) => {
    if (content === null) unlinkSync(join(work, path));
    else writeFileSync(join(work, path), content);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `edit ${path} by hand`);
    git(work, 'push', '-q', 'origin', 'main');
    return git(work, 'rev-parse', 'HEAD');
  });
}

/** Deletes the branch and recreates it from a new root holding only `files`; answers the new tip. */
export function recreateBranch(remote: string, files: Record<string, string>): string {
  git(remote, 'config', 'receive.denyDeleteCurrent', 'ignore');
  return inClone(remote, (work) => {
    git(work, 'push', '-q', 'origin', '--delete', 'main');
    git(work, 'checkout', '-q', '--orphan', 'fresh');
    git(work, 'rm', '-rq', '--cached', '.');
    for (const f of git(work, 'ls-files', '--others').split('\n').filter(Boolean)) unlinkSync(join(work, f));
    for (const [path, content] of Object.entries(files)) writeFileSync(join(work, path), content);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'start over');
    git(work, 'push', '-q', 'origin', 'fresh:main');
    return git(work, 'rev-parse', 'HEAD');
  });
}
