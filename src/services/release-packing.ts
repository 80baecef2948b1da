/**
 * The heavy part of registering and reading a release, off the event loop (issue #19 item 2):
 * each call hands one job to a thread of a bounded pool (worker-pool.ts, release-worker.ts).
 * Two threads run at once; up to 64 jobs holding at most 128 MiB of request bodies wait;
 * past that a registration is a 503 `server_busy` with Retry-After. A job past 60 s or
 * 512 MiB of heap is stopped and answered 413.
 */
import type { Blob } from '../core/digest.js';
import type { ReleaseImageInput } from '../core/release-image.js';
import { asBlob, type PackedImage, type PackedLayer, type ReadManifest, type ReleaseJob } from './release-worker.js';
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
 * Validates `resources` (400 naming each bad field), flattens Lists, enforces the release
 * limits (413 naming the limit and the object) and packs the resources layer.
 * `bodyBytes`: the request's size, what the job holds while it waits.
 */
export async function packResourcesLayer(
  resources: unknown[],
  committedAt: string | null,
  maxObjects: number,
  bodyBytes?: number,
): Promise<{ blob: Blob; objects: PackedLayer['objects'] }> {
  const packed = await releasePool.run<PackedLayer>({ kind: 'layer', resources, committedAt, maxObjects } satisfies ReleaseJob, {
    what: `packing the release's ${resources.length} resources`,
    hint: HINT,
    weight: bodyBytes ?? 0,
  });
  return { blob: asBlob(packed.blob), objects: packed.objects };
}

/** The digest of the layer `resources` give with another commit time. */
export function resourcesLayerDigest(resources: Record<string, unknown>[], committedAt: string | null): Promise<string> {
  return releasePool.run<string>({ kind: 'digest', resources, committedAt } satisfies ReleaseJob, {
    what: `digesting the release's ${resources.length} resources`,
    hint: HINT,
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
    // its caller holds the project's lock: it goes before the registrations still to be packed
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
