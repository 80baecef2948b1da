/**
 * The diff of two releases of a project (issue #16, GET …/{ref}/diff/{other}): the semantic
 * diff (objects matched by identity, field paths with old and new values, Secret values hidden)
 * or the unified text diff. The layers are fetched here; unpacking, parsing and diffing run in a
 * worker thread (diff-worker.ts) of a bounded pool (worker-pool.ts) with a time and a memory
 * limit (issue #19 item 2), so a large diff never holds up other requests, one too large to
 * finish within them is a 413, and one more than the pool's queue holds is a 503 with Retry-After.
 */
import type { ProjectParams, Release, SemanticDiff } from '../contract/index.js';
import { imageRepository } from '../core/identity.js';
import { parseReleaseManifest } from '../core/release-image.js';
import type { ReleaseStore } from '../registry/index.js';
import type { DiffAnswer, DiffJob, DiffSide } from './diff-worker.js';
import { getRelease, type ReleaseReadContext } from './release-reads.js';
import { WorkerPool, type WorkLimits } from './worker-pool.js';

/** How long a diff may run (ms) and how much heap its thread may use (MiB). */
export type DiffLimits = WorkLimits;

/** Enough for two releases at the registration limits (src/core/release-limits.ts) on a slow machine; past them the diff is refused, never left running. */
export const DEFAULT_DIFF_LIMITS: DiffLimits = { timeoutMs: 30_000, maxHeapMb: 512 };

/**
 * The diff threads: two run at once (a thread's start costs more than a diff of 500 objects,
 * so they are kept warm), four more diffs may wait; past that a diff is a 503 `server_busy`
 * with Retry-After, before its layers are even read (issue #19 item 2: ten large diffs at once
 * no longer pile up in memory in front of the threads).
 */
export const diffPool = new WorkerPool({
  module: 'diff-worker',
  size: 2,
  maxQueue: 4,
  maxQueuedBytes: 256 * 2 ** 20,
  limits: DEFAULT_DIFF_LIMITS,
  retryAfterSeconds: 5,
});

/**
 * Runs `job` in a diff thread within `limits`; 413 `payload_too_large` when it needs more time
 * or memory (that thread is stopped; the next diff gets a new one), 503 `server_busy` when the
 * queue is full. The job's layers are moved to the thread, not copied: they are empty here afterwards.
 */
export function runDiffJob(job: DiffJob, limits: DiffLimits = DEFAULT_DIFF_LIMITS): Promise<DiffAnswer & { ok: true }> {
  const transfer = [job.from.layer, job.to.layer].map((l) => l.buffer).filter((b, i, all) => all.indexOf(b) === i) as ArrayBuffer[];
  return diffPool.run<DiffAnswer & { ok: true }>(job, {
    what: `the diff of release ${job.from.release_number} and release ${job.to.release_number}`,
    hint: 'the releases are too large to diff here (compare their resources with GET …/resources)',
    weight: job.from.layer.byteLength + job.to.layer.byteLength,
    transfer,
    limits,
  });
}

async function side(store: ReleaseStore, release: Release): Promise<DiffSide> {
  const repo = imageRepository(release);
  const manifest = await store.getManifest(repo, release.oci_digest);
  const { resources } = parseReleaseManifest(manifest.bytes);
  const blob = await store.getBlob(repo, resources.digest, resources.size);
  // a copy of its own, so that handing it to the thread moves nothing another reader holds
  const layer = new Uint8Array(blob.byteLength);
  layer.set(blob);
  return { release_number: release.release_number, commit_sha: release.commit_sha, layer, mediaType: resources.mediaType };
}

/** Both releases resolved (404/409 as any reference) and their layers read from the store. */
async function job(ctx: ReleaseReadContext, p: ProjectParams, ref: string, other: string, format: DiffJob['format']) {
  const [a, b] = await Promise.all([getRelease(ctx, p, ref), getRelease(ctx, p, other)]);
  diffPool.refuseWhenFull(`the diff of release ${a.release_number} and release ${b.release_number}`);
  const [from, to] = await Promise.all([side(ctx.store, a), side(ctx.store, b)]);
  return { a, b, job: { format, from, to } satisfies DiffJob };
}

/**
 * The semantic diff from release `ref` to release `other` (GET …/diff/…?format=semantic), as
 * the JSON text of a SemanticDiff: built and serialized in the diff thread, so a diff of
 * thousands of changes is neither cloned back nor stringified on the event loop.
 */
export async function semanticReleaseDiffJson(
  ctx: ReleaseReadContext,
  p: ProjectParams,
  ref: string,
  other: string,
  limits?: DiffLimits,
): Promise<string> {
  const { a, b, job: j } = await job(ctx, p, ref, other, 'semantic-json');
  const body = (await runDiffJob(j, limits)).semanticJson!;
  const head = JSON.stringify({
    from: { release_number: a.release_number, digest: a.oci_digest },
    to: { release_number: b.release_number, digest: b.oci_digest },
  });
  // `{"from":…,"to":…}` and `{"changed":…}` joined into one object
  return body === '{}' ? head : `${head.slice(0, -1)},${body.slice(1)}`;
}

/** The unified text diff from release `ref` to release `other`: one text diff per changed object, headed by its path. */
export async function unifiedReleaseDiff(ctx: ReleaseReadContext, p: ProjectParams, ref: string, other: string, limits?: DiffLimits) {
  const answer = await runDiffJob((await job(ctx, p, ref, other, 'unified')).job, limits);
  return answer.unified!;
}

/** The semantic diff between two resolved releases (the approval context: what runs now → what is approved). */
export async function semanticDiffOf(store: ReleaseStore, a: Release, b: Release, limits?: DiffLimits): Promise<SemanticDiff> {
  diffPool.refuseWhenFull(`the diff of release ${a.release_number} and release ${b.release_number}`);
  const [from, to] = await Promise.all([side(store, a), side(store, b)]);
  const answer = await runDiffJob({ format: 'semantic', from, to }, limits);
  return {
    from: { release_number: a.release_number, digest: a.oci_digest },
    to: { release_number: b.release_number, digest: b.oci_digest },
    ...answer.semantic!,
  };
}
