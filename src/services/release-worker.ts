/**
 * The thread that does the heavy part of registering and reading a release (issue #19 item 2:
 * one 9.6 MB registration of 300,000 keys held the event loop for 13 s). It validates the
 * Kubernetes objects, flattens `kind: List`s, enforces the release limits (src/core/release-limits.ts,
 * issue #12 item 11), writes each object as canonical YAML, packs the tar and digests it; builds
 * the metadata layer and the manifest of the image; and unpacks and parses a stored layer for
 * `GET …/resources`. Started by release-packing.ts in a bounded pool (worker-pool.ts) with a time
 * and a memory limit. Each job is a plain function too (`releaseJob`), for benches and tests.
 */
import { parse } from 'yaml';
import type { Blob } from '../core/digest.js';
import { type FieldProblem, ForgeError, validationError } from '../core/errors.js';
import { flattenLists, validateResources } from '../core/manifests.js';
import {
  buildReleaseImage,
  buildResourcesLayer,
  type ReleaseImageInput,
  type ResourceSummaryItem,
  readResourcesLayer,
} from '../core/release-image.js';
import { RELEASE_LIMITS } from '../core/release-limits.js';
import { serveJobs } from './worker-pool.js';

/** A blob as it crosses to and from the thread (a Buffer arrives as a Uint8Array). */
export interface WireBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Uint8Array;
}

export type ReleaseJob =
  /** Validate, flatten, check the limits and pack the resources layer of a registration. */
  | { kind: 'layer'; resources: unknown[]; committedAt: string | null; maxObjects: number }
  /** Only the digest of the layer `resources` give (what `content_matches` compares). */
  | { kind: 'digest'; resources: Record<string, unknown>[]; committedAt: string | null }
  /** The metadata layer and the manifest, around a layer already packed. */
  | { kind: 'image'; input: Omit<ReleaseImageInput, 'resources'>; layer: { blob: WireBlob; objects: ResourceSummaryItem[] } }
  /** A stored resources layer, unpacked (within the release limits) and parsed. */
  | { kind: 'manifests'; layer: Uint8Array; mediaType: string };

export interface PackedLayer {
  blob: WireBlob;
  objects: ResourceSummaryItem[];
}

export interface PackedImage {
  manifest: WireBlob;
  metadata: WireBlob;
}

export type ReadManifest = { path: string; yaml: string; object: Record<string, unknown> };

/** How deeply a JSON value nests, counted without recursion so a hostile body cannot overflow the stack. */
function nestingDepth(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, depth);
    if (max > RELEASE_LIMITS.maxDepth) return max;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return max;
}

export function asBlob(b: WireBlob): Blob {
  return {
    mediaType: b.mediaType,
    digest: b.digest,
    size: b.size,
    bytes: Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength),
  };
}

/** The resources layer of a registration, or the 400 or 413 that says which object and which limit. */
export function packLayer(resources: unknown[], committedAt: string | null, maxObjects: number): PackedLayer {
  const problems: FieldProblem[] = [];
  resources.forEach((obj, i) => {
    if (nestingDepth(obj) > RELEASE_LIMITS.maxDepth)
      problems.push({ path: `resources[${i}]`, message: `nested deeper than ${RELEASE_LIMITS.maxDepth} levels` });
  });
  if (problems.length) throw validationError(problems);
  problems.push(...validateResources(resources, 'resources'));
  if (problems.length) throw validationError(problems);
  // `kind: List` objects are stored as their items, as Kubernetes and Argo CD apply them (issue 19 item 3).
  const flat = flattenLists(resources);
  const max = Math.min(maxObjects, RELEASE_LIMITS.maxObjects);
  if (flat.length > max) {
    throw new ForgeError(
      'payload_too_large',
      `a release may hold at most ${max} Kubernetes objects, this one has ${flat.length}${flat.length === resources.length ? '' : ' once its Lists are flattened'}`,
      { field: 'resources', limit: 'max_objects', max, actual: flat.length },
    );
  }
  const layer = buildResourcesLayer(
    flat.map((f) => f.object as Record<string, unknown>),
    committedAt,
    { maxObjectBytes: RELEASE_LIMITS.maxObjectBytes, maxTotalBytes: RELEASE_LIMITS.maxTotalBytes, at: (i) => flat[i]!.path },
  );
  return { blob: layer.blob, objects: layer.objects };
}

/** One job, on whichever thread calls it. */
export function releaseJob(job: ReleaseJob): PackedLayer | PackedImage | string | ReadManifest[] {
  switch (job.kind) {
    case 'layer':
      return packLayer(job.resources, job.committedAt, job.maxObjects);
    case 'digest':
      return buildResourcesLayer(job.resources, job.committedAt).blob.digest;
    case 'image': {
      const image = buildReleaseImage({ ...job.input, resources: [] }, { blob: asBlob(job.layer.blob), objects: job.layer.objects });
      return { manifest: image.manifest, metadata: image.metadata };
    }
    case 'manifests':
      return readResourcesLayer(Buffer.from(job.layer.buffer, job.layer.byteOffset, job.layer.byteLength), job.mediaType).map((f) => ({
        path: f.path,
        yaml: f.yaml,
        object: parse(f.yaml) as Record<string, unknown>,
      }));
  }
}

serveJobs('release-worker', releaseJob);
