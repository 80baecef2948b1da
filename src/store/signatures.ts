/** Records a release's signature on its row (migration 0012), and when it was made (the clock, not the transaction's start; migration 0130). */
import type { Db } from './db.js';

export async function recordSignature(tx: Db, releaseId: string, signature: { digest: string; key_id: string }): Promise<void> {
  await tx.query('update releases set signature_digest = $2, signature_key_id = $3, signed_at = clock_timestamp() where id = $1', [
    releaseId,
    signature.digest,
    signature.key_id,
  ]);
}
