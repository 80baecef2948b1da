/**
 * The OCI manifest that carries a release's signature (DESIGN.md §5): artifactType
 * `application/vnd.dev.sigstore.bundle.v0.3+json`, one layer holding the sigstore bundle,
 * `subject` = the release manifest, tagged `sha256-<hex>.sig` so registries without the
 * referrers API find it too. Pure: bytes in, bytes out.
 */
import { type Blob, makeBlob } from './digest.js';
import { ForgeError } from './errors.js';
import { EMPTY_CONFIG } from './release-image.js';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

/** The tag a release manifest's signature is pushed under. */
export function signatureTag(manifestDigest: string): string {
  return manifestDigest.replace(':', '-') + '.sig';
}

export function buildSignatureImage(bundleJson: unknown, subject: { digest: string; size: number }): { manifest: Blob; blobs: Blob[] } {
  const bundle = makeBlob(BUNDLE_MEDIA_TYPE, Buffer.from(JSON.stringify(bundleJson)));
  const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });
  const manifest = {
    schemaVersion: 2,
    mediaType: MANIFEST_MEDIA_TYPE,
    artifactType: BUNDLE_MEDIA_TYPE,
    config: descriptor(EMPTY_CONFIG),
    layers: [descriptor(bundle)],
    subject: { mediaType: MANIFEST_MEDIA_TYPE, digest: subject.digest, size: subject.size },
  };
  return { manifest: makeBlob(MANIFEST_MEDIA_TYPE, Buffer.from(JSON.stringify(manifest))), blobs: [EMPTY_CONFIG, bundle] };
}

/** Reads a signature manifest: the bundle layer's descriptor, after checking it signs `subjectDigest`. */
export function parseSignatureManifest(bytes: Buffer, subjectDigest: string): { digest: string; size: number } {
  let m: { artifactType?: string; subject?: { digest?: string }; layers?: { mediaType?: string; digest?: string; size?: number }[] };
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ForgeError('validation_error', 'the signature manifest is not JSON');
  }
  if (m.artifactType !== BUNDLE_MEDIA_TYPE)
    throw new ForgeError(
      'validation_error',
      `the signature manifest has artifactType ${JSON.stringify(m.artifactType)}: expected ${BUNDLE_MEDIA_TYPE}`,
    );
  if (m.subject?.digest !== subjectDigest)
    throw new ForgeError(
      'validation_error',
      `the signature manifest's subject is ${m.subject?.digest}: expected the release manifest ${subjectDigest}`,
    );
  const layer = m.layers?.find((l) => l.mediaType === BUNDLE_MEDIA_TYPE);
  if (!layer || typeof layer.digest !== 'string' || typeof layer.size !== 'number')
    throw new ForgeError('validation_error', `the signature manifest has no ${BUNDLE_MEDIA_TYPE} layer`);
  return { digest: layer.digest, size: layer.size };
}
