/**
 * The git context of a pipeline run (DESIGN.md §4): the commit, the branch or tag that was
 * pushed, the tags at the commit, the origin remote. Read from the checkout with the
 * git CLI; CI variables (`GITHUB_REF`, `GITHUB_SHA`) win where the checkout cannot know
 * (CI checks out detached heads). The repository identity is the CLI's (`--repository` or
 * the origin remote).
 */
import { ForgeError } from '../core/errors.js';
import type { GitRefContext } from '../core/triggers.js';
import { git, gitMaybe } from './git.js';

/** What CI says it checked out, in GitHub Actions' variables (from the CLI's settings, src/cli/settings.ts). */
export interface CiCheckout {
  /** The commit CI checked out (a detached HEAD). */
  GITHUB_SHA?: string;
  /** `refs/heads/<branch>` or `refs/tags/<tag>`: what was pushed. */
  GITHUB_REF?: string;
}

export interface GitContext extends GitRefContext {
  sha: string;
  author?: string;
  message?: string;
  committedAt?: string;
  /** The URL of the `origin` remote, when there is one. */
  remote?: string;
}

/**
 * A browsable URL of a commit for a remote on a web host (`git@github.com:acme/mono.git` →
 * `https://github.com/acme/mono/commit/<sha>`); none for local paths and `file://` remotes.
 */
export function commitUrl(remote: string, repository: string, sha: string): string | undefined {
  const scp = /^[^@/]+@([^:/]+):/.exec(remote);
  let host = scp?.[1];
  if (!host) {
    try {
      const u = new URL(remote);
      if (u.protocol !== 'file:') host = u.hostname;
    } catch {
      return undefined;
    }
  }
  return host ? `https://${host}/${repository}/commit/${sha}` : undefined;
}

/** The git context of the checkout at `dir`; `ci` wins over the checkout where it says something. */
export async function readGitContext(dir: string, ci: CiCheckout): Promise<GitContext> {
  const head = await gitMaybe(dir, ['rev-parse', 'HEAD']);
  if (head === undefined) {
    throw new ForgeError(
      'validation_error',
      `${dir} is not inside a git checkout with at least one commit; forge release create runs in a checkout`,
    );
  }
  const sha = (ci.GITHUB_SHA || head.trim()).toLowerCase();
  const [show, tagsOut, branchOut, remote] = await Promise.all([
    git(dir, ['show', '-s', '--format=%an <%ae>%x00%cI%x00%B', sha]),
    git(dir, ['tag', '--points-at', sha]),
    gitMaybe(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD']),
    gitMaybe(dir, ['remote', 'get-url', 'origin']),
  ]);
  const [author, committedAt, message] = show.split('\0');
  const ctx: GitContext = {
    sha,
    author,
    committedAt,
    message: message.replace(/\n+$/, ''),
    tags: tagsOut.split('\n').filter(Boolean).sort(),
  };
  const ref = ci.GITHUB_REF;
  if (ref?.startsWith('refs/tags/')) ctx.tag = ref.slice('refs/tags/'.length);
  else if (ref?.startsWith('refs/heads/')) ctx.branch = ref.slice('refs/heads/'.length);
  else if (!ref && branchOut?.trim()) ctx.branch = branchOut.trim();
  if (remote?.trim()) ctx.remote = remote.trim();
  return ctx;
}
