/**
 * Pulling a release for the plugin (DESIGN.md §5, §9): the manifest by the pointer's digest
 * (never a tag), then its layers, each checked against its descriptor's digest and size; the
 * metadata layer must name the resources layer it was built with and the release the pointer
 * names; the resources layer is extracted with limits.
 */
import { sha256Digest } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import { imageRepository } from '../core/identity.js';
import type { ReleasePointer } from '../core/pointer.js';
import { EMPTY_CONFIG, parseReleaseManifest, parseReleaseMetadata, readResourcesLayer } from '../core/release-image.js';
import type { TarLimits } from '../core/tar.js';
import type { ReleaseStore } from '../registry/index.js';

export interface PulledRelease {
  /** `<registry>/<repository>@<digest>`, for messages. */
  image: string;
  releaseNumber: number;
  resourcesDigest: string;
  resourcesMediaType: string;
  files: { path: string; yaml: string }[];
  /** The stream `sealed` answered for the resources layer; then `files` is empty (the layer was neither read nor extracted). */
  sealedStream?: string;
}

/** The metadata layer is a JSON summary of the release; far below this. */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;

/** The largest resources layer (tar, or its gzip) that can hold files within the limits: content plus headers and padding. */
export function resourcesLayerMaxBytes(limits: TarLimits): number {
  // gzip of incompressible content is a little larger than the content: 1% covers it.
  return limits.maxTotalBytes + Math.ceil(limits.maxTotalBytes / 100) + (limits.maxFiles + 2) * 2048;
}

function mismatch(message: string, details: Record<string, unknown>): ForgeError {
  return new ForgeError('validation_error', message, details);
}

/**
 * Pulls and checks the release `pointer` names. `sealed`, when given, is asked for a stream
 * already rendered from the resources layer (by its digest and media type, read from the verified manifest)
 * under these limits: when it has one, that layer is neither fetched nor extracted, and every
 * other check runs as usual (src/cmp/cache.ts RenderMemo).
 */
export async function pullRelease(
  store: ReleaseStore,
  pointer: ReleasePointer,
  limits: TarLimits,
  sealed?: (resources: { digest: string; mediaType: string }) => Promise<string | undefined>,
): Promise<PulledRelease> {
  const repository = imageRepository(pointer);
  const where = `${store.registry}/${repository}@${pointer.digest}`;
  const manifest = await store.getManifest(repository, pointer.digest);
  // The store checks this too; the plugin's guarantee rests on it, so it does not depend on the adapter.
  const actual = sha256Digest(manifest.bytes);
  if (actual !== pointer.digest) {
    throw mismatch(`${where}: the manifest's content has digest ${actual}, not ${pointer.digest}`, { expected: pointer.digest, actual });
  }
  const parsed = parseReleaseManifest(manifest.bytes);
  if (parsed.config.digest !== EMPTY_CONFIG.digest || parsed.config.size !== EMPTY_CONFIG.size) {
    throw mismatch(
      `${where}: config ${parsed.config.digest} (${parsed.config.size} bytes) is not the empty descriptor ${EMPTY_CONFIG.digest} (2 bytes)`,
      { digest: parsed.config.digest },
    );
  }
  const revision = parsed.annotations['org.opencontainers.image.revision'];
  if (revision !== undefined && revision !== pointer.release) {
    throw mismatch(`${where}: this is the release of commit ${revision}, but the pointer's spec.release is ${pointer.release}`, {
      revision,
      release: pointer.release,
    });
  }
  // Declared sizes are checked against the limits before anything is downloaded; the store then
  // never reads a blob past its declared size (issue 19 item 4).
  const layerMax = resourcesLayerMaxBytes(limits);
  if (parsed.resources.size > layerMax) {
    throw new ForgeError(
      'payload_too_large',
      `${where}: resources layer ${parsed.resources.digest} is ${parsed.resources.size} bytes, more than the ${layerMax} that files within ` +
        `FORGE_CMP_MAX_TOTAL_BYTES (${limits.maxTotalBytes}) and FORGE_CMP_MAX_FILES (${limits.maxFiles}) can take; not downloaded`,
      { digest: parsed.resources.digest, size: parsed.resources.size, limit: layerMax },
    );
  }
  if (parsed.metadata.size > MAX_METADATA_BYTES) {
    throw new ForgeError(
      'payload_too_large',
      `${where}: metadata layer ${parsed.metadata.digest} is ${parsed.metadata.size} bytes, more than ${MAX_METADATA_BYTES}; not downloaded`,
      { digest: parsed.metadata.digest, size: parsed.metadata.size, limit: MAX_METADATA_BYTES },
    );
  }
  const sealedStream = sealed ? await sealed({ digest: parsed.resources.digest, mediaType: parsed.resources.mediaType }) : undefined;
  const [metadataBytes, resourcesBytes] = await Promise.all([
    store.getBlob(repository, parsed.metadata.digest, parsed.metadata.size),
    sealedStream === undefined ? store.getBlob(repository, parsed.resources.digest, parsed.resources.size) : undefined,
  ]);
  const metadata = parseReleaseMetadata(metadataBytes);
  if (metadata.resources.digest !== parsed.resources.digest) {
    throw mismatch(
      `${where}: the metadata layer names resources layer ${metadata.resources.digest}, but the manifest has ${parsed.resources.digest}`,
      { expected: metadata.resources.digest, actual: parsed.resources.digest },
    );
  }
  const id = metadata.identity;
  if (id?.repository !== pointer.repository || id.project !== pointer.project || id.commit_sha !== pointer.release) {
    throw mismatch(
      `${where}: this holds release ${id?.repository}/${id?.project}/${id?.commit_sha}, but the pointer names ${pointer.repository}/${pointer.project}/${pointer.release}`,
      { identity: id },
    );
  }
  const release = {
    image: where,
    releaseNumber: metadata.release_number,
    resourcesDigest: parsed.resources.digest,
    resourcesMediaType: parsed.resources.mediaType,
  };
  if (resourcesBytes === undefined) return { ...release, files: [], sealedStream };
  let files: PulledRelease['files'];
  try {
    files = readResourcesLayer(resourcesBytes, parsed.resources.mediaType, limits);
  } catch (err) {
    if (err instanceof ForgeError)
      throw new ForgeError(err.code, `${where}: resources layer ${parsed.resources.digest}: ${err.message}`, err.details);
    throw err;
  }
  return { ...release, files };
}
