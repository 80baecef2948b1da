/** A release's rendered manifests, read back from its image in the store (pulled by digest, verified). */
import { parse } from 'yaml';
import type { Release } from '../contract/index.js';
import { imageRepository } from '../core/identity.js';
import { parseReleaseManifest, readResourcesLayer } from '../core/release-image.js';
import type { ReleaseStore } from '../registry/index.js';

export async function releaseManifests(store: ReleaseStore, release: Release) {
  const repo = imageRepository(release);
  const manifest = await store.getManifest(repo, release.oci_digest);
  const { resources } = parseReleaseManifest(manifest.bytes);
  const layer = await store.getBlob(repo, resources.digest, resources.size);
  return readResourcesLayer(layer, resources.mediaType).map((f) => ({
    path: f.path,
    yaml: f.yaml,
    object: parse(f.yaml) as Record<string, unknown>,
  }));
}
