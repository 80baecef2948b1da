/**
 * Building and publishing a project's artifacts (DESIGN.md §4): run the producer, push to each
 * `oci` publisher (skipping a manifest the registry already has under that tag with the same
 * digest; blobs it has are skipped by the registry client), record `external` publishers as
 * given, and push a tracking image recording where it went and how it was built.
 */
import { makeBlob } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import { openReleaseStore, type ReleaseStore } from '../registry/index.js';
import {
  type ArtifactConfig,
  type ArtifactOutputs,
  artifactOutputs,
  type PublisherOutputs,
  primaryPublisher,
  splitRepository,
} from './artifact-config.js';
import { type BuildContext, EMPTY_CONFIG, type OciContent, type Produced, produce } from './artifact-producers.js';

export const TRACKING_MEDIA_TYPE = 'application/vnd.forge.artifact.metadata.v1+json';
export const TRACKING_ARTIFACT_TYPE = 'application/vnd.forge.artifact.v1';

/** How artifacts are published (from the CLI's settings, src/cli/settings.ts). */
export interface PublishSettings {
  /** DOCKER_CONFIG (default ~/.docker): the directory of the `config.json` whose `auths` hold the publishing credentials. */
  dockerConfigDir: string;
  /** FORGE_REGISTRY_INSECURE=true: plain HTTP to non-loopback registries. */
  insecure: boolean;
  /** FORGE_TRACKING_REGISTRY: where tracking images go (default: the registry of the artifact's first oci publisher). */
  trackingRegistry?: string;
}

export interface PublishContext extends BuildContext {
  repository: string; // owner/name
  publish: PublishSettings;
}

/** One artifact record of the release request (DESIGN.md §10). */
export type ReleaseArtifact = {
  name: string;
  type: string;
  tracking_oci_uri?: string;
  tracking_oci_digest?: string;
  primary_published_uri?: string;
  outputs: ArtifactOutputs;
};

export interface PushResult {
  digest: string;
  /** false when the registry already had this manifest under the tag. */
  pushed: boolean;
}

/** A registry to publish to, with the Docker client configuration's credentials for its host (src/registry/credentials.ts). */
function storeFor(registry: string, publish: PublishSettings): ReleaseStore {
  return openReleaseStore({ registry, dataDir: '', dockerConfigDir: publish.dockerConfigDir, insecure: publish.insecure });
}

/** Pushes an image unless the registry already has it under `tag`. */
export async function pushContent(store: ReleaseStore, repository: string, tag: string, content: OciContent): Promise<PushResult> {
  const existing = await store.getManifest(repository, tag).catch((e: unknown) => {
    if (e instanceof ForgeError && e.code === 'not_found') return undefined;
    throw e;
  });
  if (existing?.digest === content.manifest.digest) return { digest: content.manifest.digest, pushed: false };
  for (const child of content.children) await store.push(repository, child.digest, content.blobs, child);
  const digest = await store.push(repository, tag, content.children.length ? [] : content.blobs, content.manifest);
  return { digest, pushed: true };
}

/**
 * Builds and publishes one artifact. `onPush` hears about every push decision (used for
 * progress output and by tests).
 */
export async function buildArtifact(
  a: ArtifactConfig,
  ctx: PublishContext,
  onPush: (what: string, result: PushResult) => void = () => {},
): Promise<ReleaseArtifact> {
  const produced: Produced | undefined = a.producer ? await produce(a, a.producer, ctx) : undefined;
  const published: Record<string, PublisherOutputs> = {};
  let trackingRegistry = ctx.publish.trackingRegistry;
  for (const p of a.publishers) {
    if (p.kind === 'external') {
      published[p.name] = { uri: p.uri, ...(p.digest ? { digest: p.digest } : {}) };
      continue;
    }
    const { registry, path } = splitRepository(p.repository);
    const tag = p.tag ?? `sha-${ctx.sha}`;
    const store = storeFor(registry, ctx.publish);
    const result = await pushContent(store, path, tag, produced!.content);
    onPush(`${p.repository}:${tag}`, result);
    published[p.name] = { uri: `${p.repository}:${tag}@${result.digest}`, registry, repository: path, tag, digest: result.digest };
    trackingRegistry ??= registry;
  }
  const outputs = artifactOutputs(a, produced?.outputs, published);
  const primary = primaryPublisher(a);
  const record: ReleaseArtifact = {
    name: a.name,
    type: a.type,
    ...(primary ? { primary_published_uri: published[primary.name].uri } : {}),
    outputs,
  };
  if (trackingRegistry) {
    const store = storeFor(trackingRegistry, ctx.publish);
    const repo = `${ctx.repository}/${ctx.project}/${a.name}`;
    const tag = `sha-${ctx.sha}`;
    const result = await pushContent(store, repo, tag, trackingImage(a, ctx, outputs));
    onPush(`${store.registry}/${repo}:${tag}`, result);
    record.tracking_oci_uri = `${store.registry}/${repo}:${tag}`;
    record.tracking_oci_digest = result.digest;
  }
  return record;
}

/**
 * The tracking image: one `application/vnd.forge.artifact.metadata.v1+json` layer saying what
 * was built, how, and where it was published. A function of its inputs only (no clock), so a
 * re-run for the same commit makes the same digest and pushes nothing.
 */
export function trackingImage(a: ArtifactConfig, ctx: PublishContext, outputs: ArtifactOutputs): OciContent {
  const metadata = {
    schemaVersion: 1,
    repository: ctx.repository,
    project: ctx.project,
    commit: ctx.sha,
    artifact: a.name,
    type: a.type,
    producer: a.producer ?? null,
    publishers: a.publishers,
    outputs,
  };
  const layer = makeBlob(TRACKING_MEDIA_TYPE, Buffer.from(JSON.stringify(metadata)));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: TRACKING_ARTIFACT_TYPE,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size },
    layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }],
    annotations: { 'org.opencontainers.image.revision': ctx.sha },
  };
  return {
    manifest: makeBlob(manifest.mediaType, Buffer.from(JSON.stringify(manifest))),
    blobs: [EMPTY_CONFIG, layer],
    children: [],
    payload: layer,
  };
}
