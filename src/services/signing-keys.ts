/**
 * Signing keys under replication (issue 13 item 5, DESIGN.md §5): the installation knows its
 * keys (table signing_keys, public halves only). A replica on PostgreSQL starts only with a
 * key the installation knows and has not retired; the first replica of a new installation (or
 * of one upgraded from per-replica keys) registers its own. Verifiers get the published set,
 * so releases signed before a rotation keep verifying. Releases no key of the set verifies
 * (signed by a lost per-replica key, or unsigned) are listed by `forge doctor` and re-signed by
 * `forge signing-key resign`, which is the upgrade path.
 */
import type { AddedSigningKey, Finding, ResignedRelease, ResignResult, SigningKeyInfo, SigningKeySet } from '../contract/index.js';
import { ForgeError } from '../core/errors.js';
import { canonicalId, imageRepository } from '../core/identity.js';
import type { ReleaseStore } from '../registry/index.js';
import { normalizePublicKey, type SigningKey, signAndPushRelease, verifyStoredRelease } from '../signing/index.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { LOCK_SIGNING_KEYS, lockFixed } from '../store/lock-keys.js';
import { recordSignature } from '../store/signatures.js';
import {
  insertSigningKey,
  listSigningKeys,
  releaseSignatures,
  retireSigningKey,
  type SigningKeyState,
  signingKeyState,
} from '../store/signing-keys.js';

/** The actor the audit log names for what a replica does at start. */
export const SERVER_ACTOR = 'forge-server';

/**
 * Called at start, before the server listens: makes sure this replica's signing key is one of
 * the installation's. An empty set (new installation, or the first start after the upgrade
 * that introduced the set) gets this key. A key the set does not hold is refused on PostgreSQL
 * (`shared`: several replicas may run, and a key of one replica alone would split the
 * releases), and added on PGlite (one process owns the data directory and the key beside it).
 * A retired key is refused on both. Errors: ForgeError validation_error saying what to do.
 */
export async function ensureInstallationKey(
  db: Db,
  key: SigningKey,
  opts: { shared: boolean; keyFile: string },
): Promise<{ registered: boolean }> {
  return db.transaction(async (tx) => {
    await lockFixed(tx, LOCK_SIGNING_KEYS);
    const keys = await listSigningKeys(tx);
    const known = keys.find((k) => k.key_id === key.keyId);
    if (known?.retired_at) {
      throw new ForgeError(
        'validation_error',
        `the signing key ${opts.keyFile} (${key.keyId.slice(0, 16)}…) was retired on ${known.retired_at}: no replica may sign with it; configure a current key of the installation (forge signing-key list)`,
        { field: 'FORGE_SIGNING_KEY_FILE' },
      );
    }
    if (known) return { registered: false };
    if (keys.length && opts.shared) {
      const ids = keys.filter((k) => !k.retired_at).map((k) => `${k.key_id.slice(0, 16)}…`);
      throw new ForgeError(
        'validation_error',
        `refusing to start: the signing key ${opts.keyFile} (${key.keyId.slice(0, 16)}…) is not one of this installation's keys (${ids.join(', ') || 'all retired'}). ` +
          (key.created
            ? 'It was generated just now because none was there: on PostgreSQL every replica must be given the installation key (FORGE_SIGNING_KEY_FILE from a shared Secret, deploy/README.md). '
            : 'Every replica must sign with a key the installation knows. ') +
          'To rotate to this key, add its public half first: forge signing-key add --public-key-file <file.pub>',
        { field: 'FORGE_SIGNING_KEY_FILE', key_id: key.keyId },
      );
    }
    await insertSigningKey(tx, { key_id: key.keyId, public_key: key.publicKeyPem, added_by: SERVER_ACTOR });
    await appendAudit(tx, {
      actor: SERVER_ACTOR,
      action: 'signing_key.added',
      subject: key.keyId,
      details: { reason: keys.length ? 'a new key in the data directory (PGlite)' : 'the installation had no signing key yet' },
    });
    return { registered: true };
  });
}

/**
 * Checked before every signature (issue 13 review F4): this replica's key is still one of the
 * installation's and not retired. Retiring a key thus stops every running replica from signing
 * with it at once, not at its next start. A read of one row, no lock: a registration already
 * past this check when the key is retired may still sign, and `forge doctor` flags such a
 * signature (made after the key's retirement). Errors: signing_key_retired (503).
 */
export async function assertSigningKeyActive(db: Db, key: SigningKey): Promise<void> {
  refuseInactiveKey(key, await signingKeyState(db, key.keyId));
}

/** Throws signing_key_retired (503) unless `state`, `key`'s row as read, says it is current (assertSigningKeyActive). */
export function refuseInactiveKey(key: SigningKey, state: SigningKeyState): void {
  if (state && !state.retired_at) return;
  throw new ForgeError(
    'signing_key_retired',
    state
      ? `this replica's signing key (${key.keyId.slice(0, 16)}…) was retired on ${state.retired_at}: it signs nothing more, so nothing was registered; restart the replica with a current key of the installation (forge signing-key list), then retry`
      : `this replica's signing key (${key.keyId.slice(0, 16)}…) is not one of the installation's keys: nothing was registered; restart the replica with a key of the installation (forge signing-key list), then retry`,
    { key_id: key.keyId },
  );
}

function info(row: Awaited<ReturnType<typeof listSigningKeys>>[number]): SigningKeyInfo {
  return { ...row, retired_at: row.retired_at ?? null };
}

/** The published key set: every key, and all of them as one PEM file (what verifiers configure). */
export async function signingKeySet(ctx: { db: Db }): Promise<SigningKeySet> {
  const items = (await listSigningKeys(ctx.db)).map(info);
  const pem = items.map((k) => `# key ${k.key_id}${k.retired_at ? ' (retired)' : ''}\n${k.public_key.trim()}\n`).join('');
  return { items, pem };
}

/** Adds a public key to the set (before rotating replicas to its private half). Errors: validation_error for a key that is not EC P-256. */
export async function addSigningKey(ctx: { db: Db }, actor: string, publicKeyPem: string): Promise<AddedSigningKey> {
  const { keyId, publicKeyPem: pem } = normalizePublicKey(publicKeyPem);
  return ctx.db.transaction(async (tx) => {
    await lockFixed(tx, LOCK_SIGNING_KEYS);
    const added = await insertSigningKey(tx, { key_id: keyId, public_key: pem, added_by: actor });
    if (added) await appendAudit(tx, { actor, action: 'signing_key.added', subject: keyId });
    const key = (await listSigningKeys(tx)).find((k) => k.key_id === keyId)!;
    return { key: info(key), added };
  });
}

/** Retires a key: it still verifies, but replicas configured with it refuse to start. Errors: not_found. */
export async function retireKey(ctx: { db: Db }, actor: string, keyId: string): Promise<SigningKeyInfo> {
  return ctx.db.transaction(async (tx) => {
    await lockFixed(tx, LOCK_SIGNING_KEYS);
    const before = (await listSigningKeys(tx)).find((k) => k.key_id === keyId);
    if (!before) throw new ForgeError('not_found', `no signing key ${keyId} in this installation`);
    if (await retireSigningKey(tx, keyId)) await appendAudit(tx, { actor, action: 'signing_key.retired', subject: keyId });
    return info((await listSigningKeys(tx)).find((k) => k.key_id === keyId)!);
  });
}

export interface SignatureProblem {
  release: ReturnType<typeof releaseSignatures> extends Promise<(infer R)[]> ? R : never;
  /** Why no key of the set verifies it. */
  reason: string;
  /** False when the signature could not be read at all (the registry failed): re-signing would not help. */
  resignable: boolean;
}

/**
 * Checks every release's signature (pulled from the release store) against the installation's
 * key set; answers the releases it does not verify, and how many were checked. A release with
 * no recorded signature is one of them.
 */
export async function checkReleaseSignatures(ctx: {
  db: Db;
  store: ReleaseStore;
}): Promise<{ checked: number; problems: SignatureProblem[] }> {
  const [keys, releases] = await Promise.all([listSigningKeys(ctx.db), releaseSignatures(ctx.db)]);
  const set = keys.map((k) => k.public_key).join('\n');
  const problems: SignatureProblem[] = [];
  for (const r of releases) {
    if (!keys.length) {
      problems.push({ release: r, reason: 'the installation has no signing key', resignable: false });
      continue;
    }
    const signer = keys.find((k) => k.key_id === r.signature_key_id);
    if (signer?.retired_at && Date.parse(String(r.signed_at)) > Date.parse(String(signer.retired_at))) {
      // Still verifies (the key stays in the set), but was made after the key was retired: a
      // replica kept signing with it (review F4). Re-signing puts a current key's signature there.
      problems.push({
        release: r,
        reason: `its signature was made with the key ${signer.key_id.slice(0, 16)}… on ${new Date(String(r.signed_at)).toISOString()}, after that key was retired on ${new Date(String(signer.retired_at)).toISOString()}`,
        resignable: true,
      });
      continue;
    }
    try {
      await verifyStoredRelease(ctx.store, imageRepository(r), r.oci_digest, set);
    } catch (err) {
      if (!(err instanceof ForgeError)) throw err;
      const resignable = err.code === 'validation_error';
      problems.push({ release: r, reason: resignable ? err.message : `its signature cannot be read: ${err.message}`, resignable });
    }
  }
  return { checked: releases.length, problems };
}

/** Doctor's part (check `signatures`): one finding per release no key of the set verifies. */
export async function signatureFindings(ctx: { db: Db; store: ReleaseStore }): Promise<Finding[]> {
  const { problems } = await checkReleaseSignatures(ctx);
  return problems.map(({ release: r, reason, resignable }) => ({
    check: 'signatures' as const,
    subject: `${r.repository}/${r.project} release ${r.release_number}`,
    problem: `${reason}${resignable ? ' (forge signing-key resign re-signs it with the installation key)' : ''}`,
  }));
}

/**
 * Re-signs, with this replica's key, every release whose signature no key of the set verifies
 * (unsigned, signed by a lost per-replica key, or a signature that does not verify): a new
 * signature is pushed beside the image (the tag sha256-<hex>.sig moves to it), the row records
 * it and the audit log gets `release.resigned`. The signature covers the manifest digest the
 * database registered, so nothing is re-signed that was not registered. `dry_run` only lists.
 * Releases whose signature cannot be read (the registry failed) are listed and left alone.
 */
export async function resignReleases(
  ctx: { db: Db; store: ReleaseStore; signingKey?: SigningKey },
  actor: string,
  opts: { dry_run?: boolean },
): Promise<ResignResult> {
  const key = ctx.signingKey;
  if (!key) throw new ForgeError('validation_error', 'this server has no signing key to re-sign with');
  if (!opts.dry_run) await assertSigningKeyActive(ctx.db, key);
  const { checked, problems } = await checkReleaseSignatures(ctx);
  const releases: ResignedRelease[] = [];
  for (const { release: r, reason, resignable } of problems) {
    const entry: ResignedRelease = {
      release: canonicalId({ repository: r.repository, project: r.project, sha: r.commit_sha }),
      release_number: r.release_number,
      reason,
      previous_key_id: r.signature_key_id,
      signature_digest: null,
    };
    releases.push(entry);
    if (opts.dry_run || !resignable) continue;
    const manifest = await ctx.store.getManifest(imageRepository(r), r.oci_digest);
    const signature = await signAndPushRelease(ctx.store, key, imageRepository(r), entry.release, {
      digest: r.oci_digest,
      size: manifest.bytes.length,
    });
    await ctx.db.transaction(async (tx) => {
      await recordSignature(tx, r.id, signature);
      await appendAudit(tx, {
        actor,
        action: 'release.resigned',
        subject: entry.release,
        details: { key_id: key.keyId, previous_key_id: r.signature_key_id, signature_digest: signature.digest, reason },
      });
    });
    entry.signature_digest = signature.digest;
  }
  return { checked, key_id: key.keyId, dry_run: !!opts.dry_run, releases };
}
