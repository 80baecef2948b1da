/**
 * A release's rendered manifests, read back from its image in the store (pulled by digest,
 * verified). The layer is unpacked (within the release limits, src/core/release-limits.ts) and
 * parsed in a worker thread (release-packing.ts; issue #19 item 2), not on the event loop.
 */
import type { Release } from '../contract/index.js';
import { imageRepository } from '../core/identity.js';
import { parseReleaseManifest } from '../core/release-image.js';
import type { ReleaseStore } from '../registry/index.js';
import { readManifestsLayer } from './release-packing.js';

export async function releaseManifests(store: ReleaseStore, release: Release) {
  const repo = imageRepository(release);
  const manifest = await store.getManifest(repo, release.oci_digest);
  const { resources } = parseReleaseManifest(manifest.bytes);
  const layer = await store.getBlob(repo, resources.digest, resources.size);
  return readManifestsLayer(layer, resources.mediaType, `release ${release.release_number} of ${release.repository}/${release.project}`);
}
