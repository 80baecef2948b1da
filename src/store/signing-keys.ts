/** The installation's signing keys (migration 0060, issue 13 item 5): the public halves, by key id. */
import type { Db } from './db.js';

export interface SigningKeyRow {
  key_id: string;
  public_key: string;
  added_at: string;
  added_by: string;
  retired_at: string | null;
}

/** Every key, oldest first. */
export function listSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  return db.query<SigningKeyRow>('select key_id, public_key, added_at, added_by, retired_at from signing_keys order by added_at, key_id');
}

/** Adds a key; answers false when it was there already (nothing changed). */
export async function insertSigningKey(tx: Db, key: { key_id: string; public_key: string; added_by: string }): Promise<boolean> {
  const rows = await tx.query<{ key_id: string }>(
    'insert into signing_keys (key_id, public_key, added_by) values ($1, $2, $3) on conflict (key_id) do nothing returning key_id',
    [key.key_id, key.public_key, key.added_by],
  );
  return rows.length === 1;
}

/** Marks a key retired (no replica may sign with it; it still verifies); false when unknown or already retired. */
export async function retireSigningKey(tx: Db, keyId: string): Promise<boolean> {
  const rows = await tx.query<{ key_id: string }>(
    'update signing_keys set retired_at = now() where key_id = $1 and retired_at is null returning key_id',
    [keyId],
  );
  return rows.length === 1;
}

/** Every release with what its row says of its signature, in number order. */
export function releaseSignatures(db: Db): Promise<
  {
    id: string;
    repository: string;
    project: string;
    commit_sha: string;
    release_number: number;
    oci_digest: string;
    signature_digest: string | null;
    signature_key_id: string | null;
    /** When the recorded signature was made: signed_at (migration 0130), else the registration time. */
    signed_at: string;
  }[]
> {
  return db.query(
    `select id, repository, project, commit_sha, release_number, oci_digest, signature_digest, signature_key_id,
            coalesce(signed_at, created_at) as signed_at
     from releases order by repository, project, release_number`,
  );
}

/** A signing key's row as a signature checks it: undefined when the installation does not know the key. */
export type SigningKeyState = { retired_at: string | null } | undefined;

/** The key's row as it is now (no lock: a cheap read before each signature). */
export async function signingKeyState(db: Db, keyId: string): Promise<SigningKeyState> {
  const [row] = await db.query<{ retired_at: string | null }>('select retired_at from signing_keys where key_id = $1', [keyId]);
  return row;
}
