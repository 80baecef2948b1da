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
  /**
   * The branches of the source repository that contain the commit, from the checkout's
   * remote-tracking refs (`refs/remotes/<remote>/<branch>`), sorted; undefined when the checkout
   * cannot tell (issue #13 item 1), and then `branchesUnknown` says why and what to do.
   */
  branches?: string[];
  branchesUnknown?: string;
}

/**
 * Which branches of the source repository contain `sha`, as the checkout's remote-tracking refs
 * show them: of the remote the CI checkout names, which is `origin` when there is one, else the
 * checkout's only remote (`<remote>/` taken off). Never of several remotes at once: a fork's
 * branches are not the source repository's (issue #13 review F6), so several remotes none of
 * which is `origin` cannot tell. A shallow clone, or a checkout with no remote-tracking refs,
 * cannot tell either: the answer is then the reason, with a hint (fetch the history and the
 * branches, e.g. `fetch-depth: 0`), which `forge release create` prints on stderr.
 */
export async function containingBranches(dir: string, sha: string): Promise<{ branches: string[] } | { unknown: string }> {
  const shallow = (await gitMaybe(dir, ['rev-parse', '--is-shallow-repository']))?.trim() === 'true';
  if (shallow) {
    return {
      unknown:
        'the checkout is a shallow clone, so which branches contain the commit is unknown and branch rules other than "*" refuse this release; fetch the full history and the branches (actions/checkout: fetch-depth: 0, or git fetch --unshallow origin "+refs/heads/*:refs/remotes/origin/*")',
    };
  }
  const remotes = (await git(dir, ['remote'])).split('\n').filter(Boolean);
  const remote = remotes.includes('origin') ? 'origin' : remotes.length === 1 ? remotes[0] : undefined;
  if (remotes.length > 1 && !remote) {
    return {
      unknown: `the checkout has several remotes (${remotes.join(', ')}) and none is "origin", so which of them is the source repository, and which branches contain the commit, is unknown; branch rules other than "*" refuse this release. Name the source repository's remote "origin" (git remote rename <name> origin)`,
    };
  }
  const scope = `refs/remotes/${remote ?? 'origin'}/`;
  const tracking = (await git(dir, ['for-each-ref', '--format=%(refname)', scope])).split('\n').filter((r) => r && !r.endsWith('/HEAD'));
  if (!tracking.length) {
    return {
      unknown:
        'the checkout has no remote-tracking branches, so which branches contain the commit is unknown and branch rules other than "*" refuse this release; fetch the branches (git fetch origin "+refs/heads/*:refs/remotes/origin/*")',
    };
  }
  const out = await git(dir, ['for-each-ref', '--contains', sha, '--format=%(refname)', scope]);
  const branches = out
    .split('\n')
    .filter((r) => r && !r.endsWith('/HEAD'))
    .map((r) => r.slice(scope.length));
  return { branches: [...new Set(branches)].sort() };
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
  const where = await containingBranches(dir, sha);
  if ('branches' in where) ctx.branches = where.branches;
  else ctx.branchesUnknown = where.unknown;
  return ctx;
}
