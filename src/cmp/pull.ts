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
  files: { path: string; yaml: string }[];
}

function mismatch(message: string, details: Record<string, unknown>): ForgeError {
  return new ForgeError('validation_error', message, details);
}

export async function pullRelease(store: ReleaseStore, pointer: ReleasePointer, limits: TarLimits): Promise<PulledRelease> {
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
  const [metadataBytes, resourcesBytes] = await Promise.all([
    store.getBlob(repository, parsed.metadata.digest, parsed.metadata.size),
    store.getBlob(repository, parsed.resources.digest, parsed.resources.size),
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
  let files: PulledRelease['files'];
  try {
    files = readResourcesLayer(resourcesBytes, parsed.resources.mediaType, limits);
  } catch (err) {
    if (err instanceof ForgeError)
      throw new ForgeError(err.code, `${where}: resources layer ${parsed.resources.digest}: ${err.message}`, err.details);
    throw err;
  }
  return { image: where, releaseNumber: metadata.release_number, resourcesDigest: parsed.resources.digest, files };
}
