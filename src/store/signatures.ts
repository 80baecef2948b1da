/** Records a release's signature on its row (migration 0012). */
import type { Db } from './db.js';

export async function recordSignature(tx: Db, releaseId: string, signature: { digest: string; key_id: string }): Promise<void> {
  await tx.query('update releases set signature_digest = $2, signature_key_id = $3 where id = $1', [
    releaseId,
    signature.digest,
    signature.key_id,
  ]);
}
