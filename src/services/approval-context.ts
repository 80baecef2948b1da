/**
 * What an approver is shown and approves (issue #16, spec §Enhanced Approvals): the release's
 * number and aliases, its triggers, the branches that contain its commit, the commit's author
 * and message, its artifacts' digests, and the semantic diff against what runs in the
 * environment now. The approval page and `forge approvals context` show it before approving;
 * the approval record keeps it as it was at that moment.
 */
import type { ApprovalContext, Release } from '../contract/index.js';
import type { ReleaseStore } from '../registry/index.js';
import type { Db } from '../store/db.js';
import * as deployments from '../store/deployments.js';
import * as releases from '../store/releases.js';
import { semanticDiffOf } from './release-diff.js';

/** An artifact's digest: the tracking image's, else a `digest` among its outputs; null when it has none. */
function artifactDigest(a: Release['artifacts'][number]): string | null {
  if (typeof a.tracking_oci_digest === 'string') return a.tracking_oci_digest;
  const d = (a.outputs as Record<string, unknown> | undefined)?.digest;
  return typeof d === 'string' ? d : null;
}

/** Where the release's commit is, as an approver is shown it: the recorded branches, else its triggers' branches. */
function contextBranches(release: Pick<Release, 'triggers'> & { source: Pick<Release['source'], 'branches'> }): string[] {
  return release.source.branches?.length
    ? release.source.branches
    : [...new Set(release.triggers.map((t) => t.branch).filter((b): b is string => typeof b === 'string'))];
}

/**
 * Marks the approvals given when the release showed other branches than it does now (issue
 * #13 review F5): a later pipeline run may replace `commit.branches` (the commit was merged
 * since), and an approval given for a commit on `feature` is not one for a commit on `main`.
 * Such an approval is `stale`: it no longer counts (the approvals rule says so), and its
 * approver may approve again. Approvals recorded without a context (before issue #16) are kept.
 */
export function markStaleApprovals<A extends { context?: unknown }>(
  list: A[],
  release: Pick<Release, 'triggers'> & { source: Pick<Release['source'], 'branches'> },
): (A & { stale: boolean })[] {
  const now = JSON.stringify([...contextBranches(release)].sort());
  return list.map((a) => {
    const shown = (a.context as { branches?: unknown } | null | undefined)?.branches;
    const stale = Array.isArray(shown) && JSON.stringify([...shown].sort()) !== now;
    return { ...a, stale };
  });
}

/**
 * The context of approving `release` for `environment`. The diff is computed against the release
 * active there now (null when nothing is, or it is this release); when it cannot be computed
 * (registry down, too large) `diff_unavailable` says why instead of leaving it out silently.
 */
export async function approvalContext(
  ctx: { db: Db; store?: ReleaseStore },
  release: Release,
  environment: string,
): Promise<ApprovalContext> {
  const active = await deployments.activeDeployment(ctx.db, environment, release.repository, release.project);
  const running = active ? await releases.findById(ctx.db, active.release_id) : undefined;
  let diff: ApprovalContext['diff'] = null;
  let unavailable: string | undefined;
  if (running && running.id !== release.id) {
    if (!ctx.store) unavailable = 'this server has no release store to read the manifests from';
    else {
      try {
        diff = await semanticDiffOf(ctx.store, running, release);
      } catch (err) {
        unavailable = (err as Error).message;
      }
    }
  }
  const branches = contextBranches(release);
  return {
    release_number: release.release_number,
    digest: release.oci_digest,
    aliases: release.aliases.map((a) => a.alias),
    triggers: release.triggers.map((t) => ({ type: t.type, branch: t.branch, tag: t.tag, triggered_by: t.triggered_by })),
    branches,
    commit: { sha: release.commit_sha, author: release.source.author, message: release.source.message },
    artifacts: release.artifacts.map((a) => ({ name: a.name, digest: artifactDigest(a) })),
    running: running ? { release_number: running.release_number, digest: running.oci_digest } : null,
    diff,
    ...(unavailable ? { diff_unavailable: unavailable } : {}),
  };
}
