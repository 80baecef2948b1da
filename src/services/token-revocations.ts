/**
 * Revoking embedded tokens (issue 19 item 5): an operator revokes a token by its id (`jti`,
 * printed by `forge token create`); every replica refuses it within a few seconds, because
 * each one re-reads the installation's revocation list (in the database) when its copy is older
 * than REFRESH_MS, before answering the request. A revocation on this replica is in force here
 * at once.
 */
import { ForgeError } from '../core/errors.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { activeRevocationIds, getRevocation, insertRevocation, type TokenRevocation } from '../store/token-revocations.js';

/** How old a replica's copy of the revocation list may be, ms: well under the 5 s promised. */
export const REFRESH_MS = 2_000;

/** A token id as `forge token create` prints it (a UUID); other text is refused before the database. */
const TOKEN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RevocationList {
  isRevoked(jti: string): Promise<boolean>;
  /** Marks an id revoked on this replica at once (the database has it already). */
  add(jti: string): void;
}

/**
 * This replica's copy of the revocation list, re-read from the database when older than
 * `refreshMs` (one read at a time; requests wait for it). A failed read keeps the old copy one
 * more period and is retried: authentication does not stop with the database, as before.
 */
export function revocationList(db: Db, refreshMs = REFRESH_MS, now: () => number = Date.now): RevocationList {
  let ids = new Set<string>();
  const local = new Set<string>(); // revoked here: kept even if a read begun before the commit answers without them
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;
  const refresh = () => {
    const started = now(); // the copy is as old as the moment it was asked for
    reading ??= activeRevocationIds(db)
      .then((list) => {
        ids = new Set([...list, ...local]);
        readAt = started;
      })
      .catch(() => {
        readAt = now() - refreshMs / 2; // retry soon, keep what we had
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  return {
    async isRevoked(jti) {
      if (now() - readAt >= refreshMs) await refresh();
      return ids.has(jti);
    },
    add(jti) {
      local.add(jti);
      ids.add(jti);
    },
  };
}

/**
 * Revokes the token with id `jti` (audited as `token.revoked`, subject the id). Idempotent: a
 * second revocation answers the first record. The row lasts as long as any token could
 * (`maxLifetimeSeconds`, FORGE_TOKEN_MAX_LIFETIME).
 */
export async function revokeToken(
  ctx: { db: Db; revocations?: RevocationList },
  actor: string,
  req: { token_id: string; reason?: string },
  maxLifetimeSeconds: number,
): Promise<{ revocation: TokenRevocation; created: boolean }> {
  if (!TOKEN_ID.test(req.token_id))
    throw new ForgeError('validation_error', 'token_id: expected the id "forge token create" printed (letters, digits, . _ : -)', {
      field: 'token_id',
    });
  const reason = req.reason ?? '';
  const result = await ctx.db.transaction(async (tx) => {
    const created = await insertRevocation(tx, {
      jti: req.token_id,
      revoked_by: actor,
      reason,
      valid_for_seconds: maxLifetimeSeconds,
    });
    if (created) await appendAudit(tx, { actor, action: 'token.revoked', subject: req.token_id, details: reason ? { reason } : {} });
    return { created, revocation: (await getRevocation(tx, req.token_id))! };
  });
  ctx.revocations?.add(req.token_id);
  return result;
}
