/**
 * The heavy part of registering and reading a release, off the event loop (issue #19 item 2):
 * each call hands one job to a thread of a bounded pool (worker-pool.ts, release-worker.ts).
 * Two threads run at once; up to 64 jobs holding at most 128 MiB of request bodies wait;
 * past that a registration is a 503 `server_busy` with Retry-After. A job past 60 s or
 * 512 MiB of heap is stopped and answered 413.
 */
import type { Blob } from '../core/digest.js';
import type { ReleaseImageInput } from '../core/release-image.js';
import {
  asBlob,
  type PackedImage,
  type PackedLayer,
  type PreparedRegistration,
  type ReadManifest,
  type ReleaseJob,
} from './release-worker.js';
import { WorkerPool, type WorkLimits } from './worker-pool.js';

export const DEFAULT_PACKING_LIMITS: WorkLimits = { timeoutMs: 60_000, maxHeapMb: 512 };

export const releasePool = new WorkerPool({
  module: 'release-worker',
  size: 2,
  maxQueue: 64,
  maxQueuedBytes: 128 * 2 ** 20,
  limits: DEFAULT_PACKING_LIMITS,
  retryAfterSeconds: 5,
});

const HINT = 'split the release or make its objects smaller';

/**
 * Reads a registration's raw JSON body in a thread (UTF-8, JSON, the text rules; a 400 when
 * they fail) and packs its resources layer there, so neither the parse nor the packing holds
 * the event loop (issue #19 item 2). The answer holds the body with `resources` emptied for the
 * schema check, and the packed layer or the refusal packing met (PreparedRegistration).
 * Refused with 503 `server_busy` when the queue is full; 413 past the time or memory limit.
 */
export function prepareRegistration(bytes: Buffer, maxObjects: number): Promise<PreparedRegistration> {
  // moved to the thread, not copied, when the buffer is the body's own
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  return releasePool.run<PreparedRegistration>({ kind: 'registration', body: own, maxObjects } satisfies ReleaseJob, {
    what: `reading a registration of ${bytes.length} bytes`,
    hint: HINT,
    weight: bytes.length,
    transfer: [own.buffer as ArrayBuffer],
  });
}

/** The digest of a packed resources layer with its files' times set to `committedAt`'s. */
export function redatedLayerDigest(layer: Blob, committedAt: string | null): Promise<string> {
  const own = new Uint8Array(layer.bytes);
  return releasePool.run<string>({ kind: 'redate', layer: own, committedAt } satisfies ReleaseJob, {
    what: `digesting a resources layer of ${layer.size} bytes`,
    hint: HINT,
    transfer: [own.buffer as ArrayBuffer],
  });
}

/** The metadata layer and the manifest of the image around `layer`. */
export async function packReleaseImage(
  input: Omit<ReleaseImageInput, 'resources'>,
  layer: { blob: Blob; objects: PackedLayer['objects'] },
): Promise<{ manifest: Blob; metadata: Blob; resources: Blob }> {
  // the layer's bytes stay here: the image needs only its digest, size and summary
  const summary = { blob: { ...layer.blob, bytes: new Uint8Array(0) }, objects: layer.objects };
  const packed = await releasePool.run<PackedImage>({ kind: 'image', input, layer: summary } satisfies ReleaseJob, {
    what: `building the release image of ${input.repository}/${input.project} ${input.sha}`,
    hint: HINT,
    // a registration already admitted and pushing (or holding the project's lock): it goes
    // before the registrations still to be packed
    urgent: true,
  });
  return { manifest: asBlob(packed.manifest), metadata: asBlob(packed.metadata), resources: layer.blob };
}

/** A stored resources layer, unpacked within the release limits and parsed (`GET …/resources`). */
export function readManifestsLayer(layer: Uint8Array, mediaType: string, what: string): Promise<ReadManifest[]> {
  // a copy of its own (a view's whole buffer would be copied otherwise), moved to the thread
  const own = new Uint8Array(layer);
  return releasePool.run<ReadManifest[]>({ kind: 'manifests', layer: own, mediaType } satisfies ReleaseJob, {
    what: `reading the resources of ${what}`,
    weight: own.byteLength,
    transfer: [own.buffer as ArrayBuffer],
  });
}
