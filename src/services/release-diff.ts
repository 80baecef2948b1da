/**
 * The diff of two releases of a project (issue #16, GET …/{ref}/diff/{other}): the semantic
 * diff (objects matched by identity, field paths with old and new values, Secret values hidden)
 * or the unified text diff. The layers are fetched here; unpacking, parsing and diffing run in a
 * worker thread (diff-worker.ts) with a time and a memory limit (issue #19 item 2), so a large
 * diff never holds up other requests, and one too large to finish within them is a 413.
 */
import { Worker } from 'node:worker_threads';
import type { ProjectParams, Release, SemanticDiff } from '../contract/index.js';
import { type ErrorCode, ForgeError } from '../core/errors.js';
import { imageRepository } from '../core/identity.js';
import { parseReleaseManifest } from '../core/release-image.js';
import type { ReleaseStore } from '../registry/index.js';
import type { DiffAnswer, DiffJob, DiffSide } from './diff-worker.js';
import { getRelease, type ReleaseReadContext } from './release-reads.js';

/** How long a diff may run (ms) and how much heap its thread may use (MiB). */
export interface DiffLimits {
  timeoutMs: number;
  maxHeapMb: number;
}

/** Enough for two releases of 5,000 objects each on a slow machine; past them the diff is refused, never left running. */
export const DEFAULT_DIFF_LIMITS: DiffLimits = { timeoutMs: 30_000, maxHeapMb: 512 };

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./diff-worker${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);

/**
 * The thread: the built module, or, run from the TypeScript sources (tests, benches), a stub
 * that registers tsx's loader in the thread first (Node 20 does not carry a parent's `--import`
 * loader hooks into a worker's entry module).
 */
function startWorker(options: ConstructorParameters<typeof Worker>[1]): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, options);
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

/** Threads kept warm between diffs (a thread's start costs more than a diff of 500 objects). */
const POOL_SIZE = 2;
const idle: { worker: Worker; heapMb: number; dropped: () => void }[] = [];

/**
 * Runs `job` in a worker thread within `limits`; 413 `payload_too_large` when it needs more time
 * or memory (that thread is stopped; the next diff gets a new one). Threads are reused: at most
 * POOL_SIZE wait, unreferenced, for the next diff. The job's layers are moved to the thread,
 * not copied: they are empty here afterwards.
 */
export function runDiffJob(job: DiffJob, limits: DiffLimits = DEFAULT_DIFF_LIMITS): Promise<DiffAnswer & { ok: true }> {
  return new Promise((resolve, reject) => {
    const reuse = idle.findIndex((w) => w.heapMb === limits.maxHeapMb);
    const kept = reuse >= 0 ? idle.splice(reuse, 1)[0] : undefined;
    kept?.worker.off('exit', kept.dropped);
    const worker =
      kept?.worker ??
      startWorker({
        resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb, maxYoungGenerationSizeMb: Math.min(64, limits.maxHeapMb / 4) },
        stdout: false,
        stderr: false,
      });
    worker.ref();
    let settled = false;
    const finish = (healthy: boolean, fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (healthy && idle.length < POOL_SIZE) {
        worker.unref();
        // a kept thread that dies while idle is simply dropped
        const dropped = () => {
          const i = idle.findIndex((w) => w.worker === worker);
          if (i >= 0) idle.splice(i, 1);
        };
        worker.once('exit', dropped);
        idle.push({ worker, heapMb: limits.maxHeapMb, dropped });
      } else void worker.terminate();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(false, () =>
          reject(
            new ForgeError(
              'payload_too_large',
              `the diff of release ${job.from.release_number} and release ${job.to.release_number} did not finish within ${limits.timeoutMs / 1000} s; the releases are too large to diff here (compare their resources with GET …/resources)`,
            ),
          ),
        ),
      limits.timeoutMs,
    );
    const onMessage = (answer: DiffAnswer) =>
      finish(true, () => (answer.ok ? resolve(answer) : reject(new ForgeError(answer.code as ErrorCode, answer.message))));
    const onError = (err: Error & { code?: string }) =>
      finish(false, () =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new ForgeError(
                'payload_too_large',
                `the diff of release ${job.from.release_number} and release ${job.to.release_number} needs more than ${limits.maxHeapMb} MiB of memory; the releases are too large to diff here`,
              )
            : new ForgeError('internal_error', `the diff failed: ${err.message}`),
        ),
      );
    const onExit = (exitCode: number) =>
      finish(false, () => reject(new ForgeError('internal_error', `the diff thread stopped (exit code ${exitCode}) without an answer`)));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    const transfer = [job.from.layer, job.to.layer].map((l) => l.buffer).filter((b, i, all) => all.indexOf(b) === i) as ArrayBuffer[];
    try {
      worker.postMessage(job, transfer);
    } catch (err) {
      finish(false, () =>
        reject(new ForgeError('internal_error', `the diff could not be handed to its thread: ${(err as Error).message}`)),
      );
    }
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
  const [from, to] = await Promise.all([side(ctx.store, a), side(ctx.store, b)]);
  return { a, b, job: { format, from, to } satisfies DiffJob };
}

/** The semantic diff from release `ref` to release `other`. */
export async function semanticReleaseDiff(
  ctx: ReleaseReadContext,
  p: ProjectParams,
  ref: string,
  other: string,
  limits?: DiffLimits,
): Promise<SemanticDiff> {
  const { a, b, job: j } = await job(ctx, p, ref, other, 'semantic');
  const answer = await runDiffJob(j, limits);
  return {
    from: { release_number: a.release_number, digest: a.oci_digest },
    to: { release_number: b.release_number, digest: b.oci_digest },
    ...answer.semantic!,
  };
}

/** The unified text diff from release `ref` to release `other`: one text diff per changed object, headed by its path. */
export async function unifiedReleaseDiff(ctx: ReleaseReadContext, p: ProjectParams, ref: string, other: string, limits?: DiffLimits) {
  const answer = await runDiffJob((await job(ctx, p, ref, other, 'unified')).job, limits);
  return answer.unified!;
}

/** The semantic diff between two resolved releases (the approval context: what runs now → what is approved). */
export async function semanticDiffOf(store: ReleaseStore, a: Release, b: Release, limits?: DiffLimits): Promise<SemanticDiff> {
  const [from, to] = await Promise.all([side(store, a), side(store, b)]);
  const answer = await runDiffJob({ format: 'semantic', from, to }, limits);
  return {
    from: { release_number: a.release_number, digest: a.oci_digest },
    to: { release_number: b.release_number, digest: b.oci_digest },
    ...answer.semantic!,
  };
}
