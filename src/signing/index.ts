/**
 * Signed releases (DESIGN.md §5, issue 6): the server signs each release manifest digest with
 * its own key, offline — a sigstore bundle (v0.3) holding a DSSE envelope over an in-toto
 * statement whose subject is the manifest digest, made by @sigstore/sign with a local Signer
 * and no witnesses (no Fulcio certificate, no Rekor entry, no timestamp authority). Verified
 * with @sigstore/verify against a configured public key, with those thresholds set to zero.
 *
 * Key: FORGE_SIGNING_KEY_FILE (an EC P-256 PKCS#8 PEM), by default `signing-key.pem` in the
 * data directory, created on first need (atomically, like the token key) with the public key
 * beside it (`signing-key.pem.pub`). The installation knows its keys (table signing_keys,
 * src/services/signing-keys.ts): every replica signs with one of them, and verifiers are given
 * the whole published set (`forge signing-key list -o pem`) as FORGE_SIGNING_PUBLIC_KEY_FILE, so
 * releases signed before a rotation keep verifying (issue 13 item 5).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer } from '@sigstore/sign';
import { type TrustMaterial, toSignedEntity, Verifier } from '@sigstore/verify';
import { readOrCreateKeyFile } from '../config/key-file.js';
import { ForgeError } from '../core/errors.js';
import { buildSignatureImage, parseSignatureManifest, signatureTag } from '../core/signature-image.js';
import type { ReleaseStore } from '../registry/release-store.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://forge.projectcatalyst.io/release-signature/v1';
const PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface SigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
  /** True when this process created the key file just now (no key was configured or present). */
  created?: boolean;
}

/** The key id: sha256 of the public key's SubjectPublicKeyInfo (DER), hex; the bundle's key hint. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function loadOrCreateSigningKey(path: string): SigningKey {
  const { content: pem, created } = readOrCreateKeyFile(
    path,
    () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  );
  if (created)
    writeFileSync(`${path}.pub`, createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 });
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ForgeError(
      'validation_error',
      `${path} is not a PEM private key: expected an EC P-256 key in PKCS#8 PEM (or remove it to have one created)`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, keyId: keyIdOf(publicKey), created };
}

/** A sigstore bundle (JSON) over the manifest digest of the release named `name`. */
export async function signDigest(key: SigningKey, name: string, manifestDigest: string): Promise<unknown> {
  const statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name, digest: { sha256: manifestDigest.replace(/^sha256:/, '') } }],
    predicateType: PREDICATE_TYPE,
    predicate: {},
  };
  const signer: Signer = {
    sign: async (data) => ({
      signature: sign('sha256', data, key.privateKey),
      key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint: key.keyId },
    }),
  };
  const bundle = await new DSSEBundleBuilder({ signer, witnesses: [] }).create({
    data: Buffer.from(JSON.stringify(statement)),
    type: PAYLOAD_TYPE,
  });
  return bundleToJSON(bundle);
}

const PEM_PUBLIC_KEY = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/**
 * A key set (issue 13 item 5): every `PUBLIC KEY` PEM block in `text` (the published set,
 * `forge signing-key list -o pem`, or a single `.pub` file), by key id. Text outside the blocks
 * (comments) is ignored. Errors: validation_error when a block is not a public key, or when
 * there is none — a key file that holds no key must not read as "nothing to check".
 */
export function parsePublicKeySet(text: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const [i, block] of (text.match(PEM_PUBLIC_KEY) ?? []).entries()) {
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch {
      throw new ForgeError('validation_error', `the signing public key ${i + 1} in the key set is not a PEM public key`);
    }
    keys.set(keyIdOf(key), key);
  }
  if (!keys.size)
    throw new ForgeError(
      'validation_error',
      'the signing key set holds no public key: expected one or more "-----BEGIN PUBLIC KEY-----" blocks (forge signing-key list -o pem)',
    );
  return keys;
}

/** The PEM (SPKI) of a public key, and its key id, checked to be an EC P-256 key as Forge signs with. */
export function normalizePublicKey(pem: string): { keyId: string; publicKeyPem: string } {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ForgeError('validation_error', 'public_key is not a PEM public key', { field: 'public_key' });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new ForgeError('validation_error', 'public_key must be an EC P-256 public key, as Forge signs with', { field: 'public_key' });
  return { keyId: keyIdOf(key), publicKeyPem: key.export({ type: 'spki', format: 'pem' }) as string };
}

/**
 * Checks a bundle against a key set (PEM text holding one or more public keys: a single key
 * file or the installation's published set) and the manifest digest it must sign; answers the
 * id of the key that signed it. Errors: validation_error naming what does not hold.
 */
export function verifyDigestBundle(publicKeyPem: string, bundleJson: unknown, manifestDigest: string): { keyId: string } {
  const keys = parsePublicKeySet(publicKeyPem);
  let keyId = '';
  let bundle;
  try {
    bundle = bundleFromJSON(bundleJson);
  } catch (err) {
    throw new ForgeError('validation_error', `the signature is not a valid sigstore bundle: ${(err as Error).message}`);
  }
  const trust: TrustMaterial = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (hint) => {
      const publicKey = keys.get(hint);
      if (!publicKey) {
        const ids = [...keys.keys()].map((id) => `${id.slice(0, 16)}…`);
        throw new ForgeError(
          'validation_error',
          ids.length === 1
            ? `the release is signed by key ${hint.slice(0, 16)}…, not by the configured public key ${ids[0]}`
            : `the release is signed by key ${hint.slice(0, 16)}…, not by any of the ${ids.length} configured public keys (${ids.join(', ')})`,
          { key_id: hint },
        );
      }
      keyId = hint;
      return { publicKey, validFor: () => true };
    },
  };
  try {
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle));
  } catch (err) {
    if (err instanceof ForgeError) throw err;
    throw new ForgeError(
      'validation_error',
      `the release signature does not verify with the configured public key${keys.size > 1 ? 's' : ''}: ${(err as Error).message}`,
    );
  }
  const envelope = bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope : undefined;
  if (!envelope || envelope.payloadType !== PAYLOAD_TYPE)
    throw new ForgeError('validation_error', `the signature bundle does not hold an in-toto statement (${PAYLOAD_TYPE})`);
  const statement = JSON.parse(envelope.payload.toString('utf8')) as { _type?: string; subject?: { digest?: { sha256?: string } }[] };
  const signed = (statement.subject ?? []).map((s) => `sha256:${s.digest?.sha256}`);
  if (statement._type !== STATEMENT_TYPE || !signed.includes(manifestDigest)) {
    throw new ForgeError(
      'validation_error',
      `the signature is for ${signed.join(', ') || 'nothing'}, not for the release manifest ${manifestDigest}`,
    );
  }
  return { keyId };
}

/** Signs a release manifest and pushes the signature beside it; answers the signature manifest's digest and tag. */
export async function signAndPushRelease(
  store: ReleaseStore,
  key: SigningKey,
  repository: string,
  name: string,
  manifest: { digest: string; size: number },
) {
  const bundle = await signDigest(key, name, manifest.digest);
  const image = buildSignatureImage(bundle, manifest);
  const tag = signatureTag(manifest.digest);
  const digest = await store.push(repository, tag, image.blobs, image.manifest);
  return { digest, tag, key_id: key.keyId };
}

/** Pulls the signature of a release manifest from its store and verifies it; a missing signature is refused. */
export async function verifyStoredRelease(store: ReleaseStore, repository: string, manifestDigest: string, publicKeyPem: string) {
  const tag = signatureTag(manifestDigest);
  let sig;
  try {
    sig = await store.getManifest(repository, tag);
  } catch (err) {
    if (err instanceof ForgeError && err.code === 'not_found') {
      throw new ForgeError('validation_error', `the release ${manifestDigest} is not signed: no ${tag} in ${repository}`);
    }
    throw err;
  }
  const layer = parseSignatureManifest(sig.bytes, manifestDigest);
  const bundle = JSON.parse((await store.getBlob(repository, layer.digest, layer.size)).toString('utf8'));
  return { ...verifyDigestBundle(publicKeyPem, bundle, manifestDigest), signature_digest: sig.digest, tag };
}
