/**
 * The thread that does the heavy part of registering and reading a release (issue #19 item 2:
 * one 9.6 MB registration of 300,000 keys held the event loop for 13 s). It validates the
 * Kubernetes objects, flattens `kind: List`s, enforces the release limits (src/core/release-limits.ts,
 * issue #12 item 11), writes each object as canonical YAML, packs the tar and digests it; builds
 * the metadata layer and the manifest of the image; and unpacks and parses a stored layer for
 * `GET …/resources`. Started by release-packing.ts in a bounded pool (worker-pool.ts) with a time
 * and a memory limit. Each job is a plain function too (`releaseJob`), for benches and tests.
 */
import { isUtf8 } from 'node:buffer';
import { CORE_SCHEMA, load } from 'js-yaml';
import secureJson from 'secure-json-parse';
import type { Blob } from '../core/digest.js';
import { type FieldProblem, ForgeError, validationError } from '../core/errors.js';
import { inputProblems } from '../core/input-text.js';
import { parseJsonText } from '../core/json-text.js';
import { flattenLists, validateResources } from '../core/manifests.js';
import {
  buildReleaseImage,
  buildResourcesLayer,
  type ReleaseImageInput,
  type ResourceSummaryItem,
  readResourcesLayer,
  redateResourcesLayer,
} from '../core/release-image.js';
import { RELEASE_LIMITS } from '../core/release-limits.js';
import { parseRfc3339 } from '../core/rfc3339.js';
import { serveJobs } from './worker-pool.js';

/** A blob as it crosses to and from the thread (a Buffer arrives as a Uint8Array). */
export interface WireBlob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Uint8Array;
}

export type ReleaseJob =
  /** Read a registration's raw body (UTF-8, JSON, text rules) and pack its resources layer. */
  | { kind: 'registration'; body: Uint8Array; maxObjects: number }
  /** The digest of a packed resources layer with its files' times set to another commit time (what `content_matches` compares). */
  | { kind: 'redate'; layer: Uint8Array; committedAt: string | null }
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

/**
 * A registration as the thread read it: the body with `resources` emptied (what the event loop
 * validates against the schema and keeps), how many resources it had, and either their packed
 * layer or the refusal packing them met. The refusal waits until the rest of the body has been
 * validated and the caller authorized, so errors come in the order a reader expects.
 */
export interface PreparedRegistration {
  body: unknown;
  /** How many objects `resources` held before `kind: List`s were flattened; null when it is not an array. */
  count: number | null;
  layer?: PackedLayer;
  refusal?: { code: string; message: string; details?: Record<string, unknown> };
}

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

/** A request body's bytes as JSON: valid UTF-8, no prototype keys, no NUL or lone surrogate, bounded nesting; a 400 otherwise. */
function readJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) throw validationError([{ path: 'body', message: 'is empty; expected a JSON object' }]);
  if (!isUtf8(bytes)) throw validationError([{ path: 'body', message: 'is not valid UTF-8' }]);
  const text = bytes.toString('utf8');
  let body: unknown;
  try {
    body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    if (/forbidden prototype/i.test((err as Error).message))
      throw validationError([{ path: 'body', message: 'holds a "__proto__" or "constructor.prototype" key, which is refused' }]);
    parseJsonText(text, 'the request body'); // throws the 400 that says where the fault is
    throw err;
  }
  const problems = inputProblems(body);
  if (problems.length > 0) throw validationError(problems);
  return body;
}

/**
 * Reads a registration's raw body and packs its resources (issue #19 item 2: parsing a 10 MB
 * body on the event loop stalled every other request). Bad JSON or text is thrown (400); a
 * refusal of the resources themselves is answered beside the body, for the caller to throw later.
 */
export function prepareRegistration(bytes: Buffer, maxObjects: number): PreparedRegistration {
  const body = readJsonBody(bytes);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { body, count: null };
  const { resources, ...rest } = body as Record<string, unknown>;
  if (!Array.isArray(resources)) return { body, count: null };
  const emptied = { ...rest, resources: [] };
  // too many objects: the caller's own check names the limit; nothing is packed
  if (resources.length > Math.min(maxObjects, RELEASE_LIMITS.maxObjects)) return { body: emptied, count: resources.length };
  const commit = (rest as { commit?: { committed_at?: unknown } }).commit;
  const at = typeof commit?.committed_at === 'string' && parseRfc3339(commit.committed_at) ? commit.committed_at : null;
  try {
    return { body: emptied, count: resources.length, layer: packLayer(resources, at, maxObjects) };
  } catch (err) {
    if (!(err instanceof ForgeError)) throw err;
    return { body: emptied, count: resources.length, refusal: { code: err.code, message: err.message, details: err.details } };
  }
}

/** One job, on whichever thread calls it. */
export function releaseJob(job: ReleaseJob): PreparedRegistration | PackedImage | string | ReadManifest[] {
  switch (job.kind) {
    case 'registration':
      return prepareRegistration(Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength), job.maxObjects);
    case 'redate':
      return redateResourcesLayer(Buffer.from(job.layer.buffer, job.layer.byteOffset, job.layer.byteLength), job.committedAt).digest;
    case 'image': {
      const image = buildReleaseImage({ ...job.input, resources: [] }, { blob: asBlob(job.layer.blob), objects: job.layer.objects });
      return { manifest: image.manifest, metadata: image.metadata };
    }
    case 'manifests':
      return readResourcesLayer(Buffer.from(job.layer.buffer, job.layer.byteOffset, job.layer.byteLength), job.mediaType).map((f) => ({
        path: f.path,
        yaml: f.yaml,
        // js-yaml's YAML 1.2 core schema, as the diff reads the same files: linear in the keys
        // (the yaml package's duplicate-key check took 69 s for one object of 40,000 keys)
        object: load(f.yaml, { schema: CORE_SCHEMA }) as Record<string, unknown>,
      }));
  }
}

serveJobs('release-worker', releaseJob);
