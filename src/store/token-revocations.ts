/** Revoked embedded tokens, by id (`jti`; issue 19 item 5). */
import type { Db } from './db.js';

export interface TokenRevocation {
  jti: string;
  revoked_at: string;
  revoked_by: string;
  reason: string;
  expires_at: string;
}

/** Records a revocation; false when the id was already revoked (the first record stays). */
export async function insertRevocation(
  tx: Db,
  r: { jti: string; revoked_by: string; reason: string; valid_for_seconds: number },
): Promise<boolean> {
  const rows = await tx.query(
    `insert into token_revocations (jti, revoked_by, reason, expires_at)
     values ($1, $2, $3, now() + make_interval(secs => $4::float8))
     on conflict (jti) do nothing returning jti`,
    [r.jti, r.revoked_by, r.reason, r.valid_for_seconds],
  );
  return rows.length > 0;
}

export async function getRevocation(db: Db, jti: string): Promise<TokenRevocation | undefined> {
  const [row] = await db.query<TokenRevocation>('select * from token_revocations where jti = $1', [jti]);
  return row;
}

/** The ids of every revocation that may still matter (a token with that id could still be unexpired). */
export async function activeRevocationIds(db: Db): Promise<string[]> {
  const rows = await db.query<{ jti: string }>('select jti from token_revocations where expires_at > now()');
  return rows.map((r) => r.jti);
}
