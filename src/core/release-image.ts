/**
 * The Release OCI image (DESIGN.md §5): building it from a release request, byte for byte
 * reproducibly, and reading one back. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { canonicalJson } from './canonical-json.js';
import { type Blob, isDigest, makeBlob } from './digest.js';
import { ForgeError } from './errors.js';
import { groupOf } from './manifests.js';
import { RESOURCE_LAYER_LIMITS } from './release-limits.js';
import { parseRfc3339, rfc3339Problem } from './rfc3339.js';
import { readTar, type TarLimits, writeTar } from './tar.js';
import { toYaml } from './yaml-out.js';

export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  empty: 'application/vnd.oci.empty.v1+json',
  release: 'application/vnd.forge.release.v1',
  metadata: 'application/vnd.forge.release.metadata.v1+json',
  resources: 'application/vnd.forge.release.resources.v1+tar',
  resourcesGzip: 'application/vnd.forge.release.resources.v1.tar+gzip',
} as const;

export const LAYER_TYPE_ANNOTATION = 'org.catalyst-forge.layer.type';

export interface ReleaseImageInput {
  repository: string;
  project: string;
  sha: string;
  releaseNumber: number;
  aliases: { alias: string; alias_type: 'numeric' | 'tag' | 'branch' }[];
  triggers: { type: 'branch_push' | 'tag' | 'manual'; branch?: string | null; tag?: string | null }[];
  source: { author?: string | null; message?: string | null; committed_at?: string | null; url?: string | null };
  artifacts: Record<string, unknown>[];
  /** Kubernetes objects, already validated (apiVersion, kind, metadata.name). */
  resources: Record<string, unknown>[];
}

export interface ResourceSummaryItem {
  api_version: string;
  kind: string;
  namespace: string | null;
  name: string;
  path: string;
}

/** The metadata layer (schemaVersion 1). */
export interface ReleaseMetadata {
  schemaVersion: 1;
  identity: { repository: string; project: string; commit_sha: string; canonical_id: string };
  release_number: number;
  aliases: { alias: string; alias_type: string }[];
  triggers: { type: string; branch: string | null; tag: string | null }[];
  source: { sha: string; author: string | null; message: string | null; committed_at: string | null; url: string | null };
  artifacts: Record<string, unknown>[];
  resources: {
    digest: string;
    size: number;
    media_type: string;
    count: number;
    kinds: Record<string, number>;
    objects: ResourceSummaryItem[];
  };
}

export interface ReleaseImage {
  manifest: Blob;
  config: Blob;
  metadata: Blob;
  resources: Blob;
  metadataDoc: ReleaseMetadata;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** `{}`: the OCI empty descriptor's content (sha256:44136fa…, 2 bytes). */
export const EMPTY_CONFIG: Blob = makeBlob(MEDIA_TYPES.empty, Buffer.from('{}'));

const ALIAS_ORDER = { numeric: 0, tag: 1, branch: 2 } as const;
const TRIGGER_ORDER = { branch_push: 0, tag: 1, manual: 2 } as const;

/** `[<namespace>/]<kind>[.<group>]/<name>.yaml`, lower-case; group = apiVersion before `/`. */
export function resourcePath(obj: Record<string, unknown>): string {
  const { apiVersion, kind, name, namespace } = objectIdentity(obj);
  // one file per object of a group, whichever version names it (manifests.ts refuses two)
  const group = groupOf(apiVersion);
  const path = `${namespace ? `${namespace}/` : ''}${kind}${group ? `.${group}` : ''}/${name}.yaml`;
  return path.toLowerCase();
}

function objectIdentity(obj: Record<string, unknown>) {
  const metadata = (obj.metadata ?? {}) as Record<string, unknown>;
  // A hook created by generateName has no name yet: its file is named by the prefix and a digest of the object.
  const name =
    metadata.name === undefined && typeof metadata.generateName === 'string'
      ? `${metadata.generateName}${createHash('sha256').update(canonicalJson(obj)).digest('hex').slice(0, 10)}`
      : metadata.name;
  // an empty namespace is an omitted one, as Kubernetes reads it
  const fields = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name,
    namespace: metadata.namespace === '' ? null : (metadata.namespace ?? null),
  };
  for (const [field, value] of Object.entries(fields)) {
    const optional = field === 'namespace';
    if (optional && value === null) continue;
    if (
      typeof value !== 'string' ||
      value === '' ||
      /[\\\0]/.test(value) ||
      value.split('/').includes('..') ||
      (field !== 'apiVersion' && value.includes('/'))
    ) {
      throw new ForgeError(
        'validation_error',
        `resource ${field === 'name' || field === 'namespace' ? `metadata.${field}` : field} ${JSON.stringify(value)} cannot name a file: expected a non-empty string without "/", "\\" or ".."`,
        { field, value },
      );
    }
  }
  return fields as { apiVersion: string; kind: string; name: string; namespace: string | null };
}

function commitSeconds(committedAt: string | null | undefined): number {
  if (!committedAt) return 0;
  const at = parseRfc3339(committedAt);
  if (!at) throw new ForgeError('validation_error', `commit time ${rfc3339Problem(committedAt)}`, { field: 'commit.committed_at' });
  return Math.max(0, Math.floor(at.getTime() / 1000));
}

/** Sizes a resources layer may not pass while it is built (registration; src/core/release-limits.ts). */
export interface LayerSizeLimits {
  maxObjectBytes: number;
  maxTotalBytes: number;
  /** How the request named the object at index `i` (`resources[3]`, `resources[2].items[0]`). */
  at?: (i: number) => string;
}

/**
 * The resources layer alone: an uncompressed tar, one canonical YAML document per object,
 * sorted by path. With `limits`, an object whose YAML file is larger than one object may be,
 * or files larger together than a release may hold, are a 413 naming the limit and the object.
 */
export function buildResourcesLayer(
  resources: Record<string, unknown>[],
  committedAt?: string | null,
  limits?: LayerSizeLimits,
): { blob: Blob; objects: ResourceSummaryItem[] } {
  const mtime = commitSeconds(committedAt);
  const objects = resources
    .map((obj, index) => {
      const id = objectIdentity(obj);
      return {
        item: { api_version: id.apiVersion, kind: id.kind, namespace: id.namespace, name: id.name, path: resourcePath(obj) },
        obj,
        index,
      };
    })
    .sort((a, b) => (a.item.path < b.item.path ? -1 : a.item.path > b.item.path ? 1 : 0));
  for (let i = 1; i < objects.length; i++) {
    if (objects[i]!.item.path === objects[i - 1]!.item.path) {
      throw new ForgeError(
        'validation_error',
        `two resources map to the same file "${objects[i]!.item.path}" (same kind, group, namespace and name)`,
        { path: objects[i]!.item.path },
      );
    }
  }
  let total = 0;
  const files = objects.map(({ item, obj, index }) => {
    const bytes = Buffer.from(resourceYaml(obj));
    if (limits) {
      const at = limits.at?.(index) ?? `resources[${index}]`;
      const what = `${at} (${item.kind} "${item.name}"${item.namespace ? ` in namespace "${item.namespace}"` : ''})`;
      if (bytes.length > limits.maxObjectBytes)
        throw new ForgeError(
          'payload_too_large',
          `${what} is ${bytes.length} bytes as YAML; one object may be at most ${limits.maxObjectBytes} bytes (the limit every reader of a release enforces: GET …/resources, the diff, the Argo CD plugin)`,
          { field: at, limit: 'max_object_bytes', max: limits.maxObjectBytes, actual: bytes.length },
        );
      total += bytes.length;
      if (total > limits.maxTotalBytes)
        throw new ForgeError(
          'payload_too_large',
          `the resources are more than ${limits.maxTotalBytes} bytes as YAML together (passed at ${what}); a release may hold at most ${limits.maxTotalBytes} bytes of objects (the limit every reader of a release enforces)`,
          { field: 'resources', limit: 'max_total_bytes', max: limits.maxTotalBytes, actual_at_least: total },
        );
    }
    return { path: item.path, bytes, mtime };
  });
  const tar = writeTar(files);
  return { blob: makeBlob(MEDIA_TYPES.resources, tar), objects: objects.map((o) => o.item) };
}

/**
 * The resources layer `layer` (as buildResourcesLayer packed it) with every file's time set to
 * `committedAt`'s: the same files in the same order, so its digest is the one buildResourcesLayer
 * would give the same objects with that commit time (what `content_matches` compares).
 */
export function redateResourcesLayer(layer: Buffer, committedAt: string | null): Blob {
  const mtime = commitSeconds(committedAt);
  const files = readTar(layer, RESOURCE_LAYER_LIMITS).map((e) => ({ path: e.path, bytes: e.bytes, mtime }));
  return makeBlob(MEDIA_TYPES.resources, writeTar(files));
}

/**
 * One object as YAML with keys sorted at every level, so equal objects give equal bytes;
 * strings a YAML 1.1 reader would take for another type are quoted (src/core/yaml-out.ts).
 */
export function resourceYaml(obj: Record<string, unknown>): string {
  return toYaml(obj, { sortKeys: true });
}

/** The digest of the resources layer that `resources` give (what `content_matches` compares). */
export function resourcesDigest(resources: Record<string, unknown>[], committedAt?: string | null): string {
  return buildResourcesLayer(resources, committedAt).blob.digest;
}

/** The whole image; `layer` may be passed when the resources layer was already built from `input.resources`. */
export function buildReleaseImage(
  input: ReleaseImageInput,
  layer = buildResourcesLayer(input.resources, input.source.committed_at ?? null),
): ReleaseImage {
  const committedAt = input.source.committed_at ?? null;
  const { blob: resources, objects } = layer;
  const kinds: Record<string, number> = {};
  for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;

  const metadataDoc: ReleaseMetadata = {
    schemaVersion: 1,
    identity: {
      repository: input.repository,
      project: input.project,
      commit_sha: input.sha,
      canonical_id: `${input.repository}/${input.project}/${input.sha}`,
    },
    release_number: input.releaseNumber,
    aliases: input.aliases
      .map((a) => ({ alias: a.alias, alias_type: a.alias_type }))
      .sort((a, b) => ALIAS_ORDER[a.alias_type] - ALIAS_ORDER[b.alias_type] || compare(a.alias, b.alias)),
    triggers: input.triggers
      .map((t) => ({ type: t.type, branch: t.branch ?? null, tag: t.tag ?? null }))
      .sort(
        (a, b) =>
          TRIGGER_ORDER[a.type] - TRIGGER_ORDER[b.type] || compare(a.branch ?? '', b.branch ?? '') || compare(a.tag ?? '', b.tag ?? ''),
      ),
    source: {
      sha: input.sha,
      author: input.source.author ?? null,
      message: input.source.message ?? null,
      committed_at: committedAt,
      url: input.source.url ?? null,
    },
    artifacts: input.artifacts,
    resources: {
      digest: resources.digest,
      size: resources.size,
      media_type: resources.mediaType,
      count: objects.length,
      kinds,
      objects,
    },
  };
  const metadata = makeBlob(MEDIA_TYPES.metadata, Buffer.from(canonicalJson(metadataDoc)));

  const annotations: Record<string, string> = { 'org.opencontainers.image.revision': input.sha };
  if (committedAt) annotations['org.opencontainers.image.created'] = committedAt;
  if (input.source.url) annotations['org.opencontainers.image.source'] = input.source.url;
  const manifestDoc = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    artifactType: MEDIA_TYPES.release,
    config: descriptor(EMPTY_CONFIG),
    layers: [
      { ...descriptor(metadata), annotations: { [LAYER_TYPE_ANNOTATION]: 'metadata' } },
      { ...descriptor(resources), annotations: { [LAYER_TYPE_ANNOTATION]: 'resources' } },
    ],
    annotations,
  };
  const manifest = makeBlob(MEDIA_TYPES.manifest, Buffer.from(canonicalJson(manifestDoc)));
  return { manifest, config: EMPTY_CONFIG, metadata, resources, metadataDoc };
}

function descriptor(blob: Blob): Descriptor {
  return { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- reading ----

export interface ParsedReleaseManifest {
  config: Descriptor;
  metadata: Descriptor;
  /** Media type `…resources.v1+tar` or `…resources.v1.tar+gzip`. */
  resources: Descriptor;
  annotations: Record<string, string>;
}

function invalidImage(message: string): ForgeError {
  return new ForgeError('validation_error', `not a Forge release image: ${message}`);
}

/** Checks that `bytes` are a Forge release manifest and picks its layers by media type. */
export function parseReleaseManifest(bytes: Buffer): ParsedReleaseManifest {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw invalidImage('the manifest is not JSON');
  }
  if (!doc || typeof doc !== 'object') throw invalidImage('the manifest is not a JSON object');
  if (doc.schemaVersion !== 2) throw invalidImage(`schemaVersion is ${JSON.stringify(doc.schemaVersion)}, expected 2`);
  if (doc.mediaType !== undefined && doc.mediaType !== MEDIA_TYPES.manifest) {
    throw invalidImage(`mediaType is ${JSON.stringify(doc.mediaType)}, expected ${MEDIA_TYPES.manifest}`);
  }
  if (doc.artifactType !== MEDIA_TYPES.release) {
    throw invalidImage(`artifactType is ${JSON.stringify(doc.artifactType)}, expected ${MEDIA_TYPES.release}`);
  }
  const config = parseDescriptor(doc.config, 'config');
  const layers = Array.isArray(doc.layers) ? doc.layers.map((l, i) => parseDescriptor(l, `layers[${i}]`)) : [];
  const pick = (types: string[], what: string) => {
    const found = layers.filter((l) => types.includes(l.mediaType));
    if (found.length !== 1) throw invalidImage(`expected exactly one ${what} layer (${types.join(' or ')}), found ${found.length}`);
    return found[0]!;
  };
  const annotations = (doc.annotations && typeof doc.annotations === 'object' ? doc.annotations : {}) as Record<string, string>;
  return {
    config,
    metadata: pick([MEDIA_TYPES.metadata], 'metadata'),
    resources: pick([MEDIA_TYPES.resources, MEDIA_TYPES.resourcesGzip], 'resources'),
    annotations,
  };
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  const d = value as Record<string, unknown> | null;
  if (!d || typeof d !== 'object') throw invalidImage(`${where} is not a descriptor`);
  if (typeof d.mediaType !== 'string') throw invalidImage(`${where}.mediaType is missing`);
  if (!isDigest(d.digest)) throw invalidImage(`${where}.digest ${JSON.stringify(d.digest)} is not sha256:<64 hex>`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    throw invalidImage(`${where}.size is not a non-negative integer`);
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.annotations ? { annotations: d.annotations as Record<string, string> } : {}),
  };
}

/** Parses the metadata layer and checks its schema version. */
export function parseReleaseMetadata(bytes: Buffer): ReleaseMetadata {
  let doc: ReleaseMetadata;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as ReleaseMetadata;
  } catch {
    throw invalidImage('the metadata layer is not JSON');
  }
  if (doc?.schemaVersion !== 1) throw invalidImage(`metadata schemaVersion is ${JSON.stringify(doc?.schemaVersion)}, expected 1`);
  if (!isDigest(doc.resources?.digest)) throw invalidImage('metadata has no resources.digest');
  return doc;
}

/** What a reader of a resources layer allows: the limits registration enforces (src/core/release-limits.ts, issue #12 item 11). */
export const DEFAULT_RESOURCE_LIMITS: TarLimits = RESOURCE_LAYER_LIMITS;

/** The files of a resources layer (plain tar or gzip), each a YAML document, with limits and only safe regular files. */
export function readResourcesLayer(
  bytes: Buffer,
  mediaType: string,
  limits: TarLimits = DEFAULT_RESOURCE_LIMITS,
): { path: string; yaml: string }[] {
  let tar = bytes;
  if (mediaType === MEDIA_TYPES.resourcesGzip) {
    try {
      // Headers and padding add at most ~2 KiB per file on top of the content.
      tar = gunzipSync(bytes, { maxOutputLength: limits.maxTotalBytes + (limits.maxFiles + 2) * 2048 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new ForgeError('payload_too_large', `resources layer decompresses to more than ${limits.maxTotalBytes} bytes of files`);
      }
      throw invalidImage(`resources layer is not valid gzip: ${(err as Error).message}`);
    }
  } else if (mediaType !== MEDIA_TYPES.resources) {
    throw invalidImage(`resources layer media type ${mediaType} is neither ${MEDIA_TYPES.resources} nor ${MEDIA_TYPES.resourcesGzip}`);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return readTar(tar, limits).map((e) => {
    try {
      return { path: e.path, yaml: decoder.decode(e.bytes) };
    } catch {
      throw invalidImage(`"${e.path}" in the resources layer is not UTF-8`);
    }
  });
}
