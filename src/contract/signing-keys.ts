/**
 * The installation's signing keys on the wire (issue 13 item 5, DESIGN.md §5): the published
 * key set every release verifies against, adding a key before a rotation, and re-signing
 * releases whose signature no key of the set verifies (the upgrade path for releases signed by
 * lost per-replica keys).
 */
import { type Static, Type } from 'typebox';
import { Nullable } from './common.js';

/** One key: its id (sha256 of the SPKI DER, hex), the public key (SPKI PEM), who added it and when. */
export const SigningKeyInfo = Type.Object({
  key_id: Type.String(),
  public_key: Type.String(),
  added_at: Type.String(),
  added_by: Type.String(),
  /** Set once no replica may sign with it any more; it still verifies the releases it signed. */
  retired_at: Nullable(Type.String()),
});
export type SigningKeyInfo = Static<typeof SigningKeyInfo>;

/** GET /signing-keys: every key, oldest first, and `pem`, the whole set as one file for verifiers. */
export const SigningKeySet = Type.Object({ items: Type.Array(SigningKeyInfo), pem: Type.String() });
export type SigningKeySet = Static<typeof SigningKeySet>;

/** POST /signing-keys (admin): adds an EC P-256 public key (PEM) to the set. */
export const AddSigningKeyRequest = Type.Object(
  { public_key: Type.String({ minLength: 1, maxLength: 8192 }) },
  { additionalProperties: false },
);
export type AddSigningKeyRequest = Static<typeof AddSigningKeyRequest>;

/** What POST /signing-keys answers: the key, and whether it was new. */
export const AddedSigningKey = Type.Object({ key: SigningKeyInfo, added: Type.Boolean() });
export type AddedSigningKey = Static<typeof AddedSigningKey>;

/** POST /signing-keys/{key_id}/retire (admin): no replica may sign with the key any more. */
export const SigningKeyParams = Type.Object({ key_id: Type.String({ pattern: '^[0-9a-f]{64}$' }) });

/** POST /signing-keys/resign (admin): re-sign every release no key of the set verifies; `dry_run` only lists them. */
export const ResignRequest = Type.Object({ dry_run: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type ResignRequest = Static<typeof ResignRequest>;

/** One release whose signature did not verify, why, and (unless a dry run) its new signature. */
export const ResignedRelease = Type.Object({
  release: Type.String(),
  release_number: Type.Integer(),
  reason: Type.String(),
  previous_key_id: Nullable(Type.String()),
  signature_digest: Nullable(Type.String()),
});
export type ResignedRelease = Static<typeof ResignedRelease>;

export const ResignResult = Type.Object({
  /** Releases checked. */
  checked: Type.Integer(),
  /** The key the releases were (or would be) re-signed with: the answering replica's. */
  key_id: Type.String(),
  dry_run: Type.Boolean(),
  releases: Type.Array(ResignedRelease),
});
export type ResignResult = Static<typeof ResignResult>;
