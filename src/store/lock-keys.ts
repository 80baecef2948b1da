/**
 * Every PostgreSQL advisory lock Forge takes, named in one place (DESIGN.md §12: replicas on one
 * database serialise through these). All are transaction-scoped (`pg_advisory_xact_lock`):
 * held until the caller's transaction ends. Two kinds of key:
 *   - one fixed bigint for a lock of the whole database (migrations, audit appends);
 *   - a per-subject key, `hashtextextended(subject, space)`: the space (the hash's seed) keeps
 *     the subjects of different locks from sharing keys.
 * The numbers are part of the deployed system: replicas of two versions must agree on them,
 * so never renumber one.
 */
import pg from 'pg';
import type { Db } from './db.js';

/** Fixed keys: one lock each. */
export const LOCK_MIGRATIONS = 7_303_417; // "forge migrations"
export const LOCK_AUDIT_APPEND = 7_303_418; // the audit chain has no forks
export const LOCK_SIGNING_KEYS = 7_303_419; // replicas starting at once agree on the installation's first key

/** Seeds of the per-subject keys. */
export const LockSpace = {
  /** Release registration of one `<owner>/<name>/<project>`: release numbers and aliases. */
  releaseRegistration: 0,
  /** Recording outcomes of one deployment slot (`deploy:<env>/<owner>/<name>/<project>`). */
  deploymentSlot: 1,
  /** One approver's approval of one release digest for one environment. */
  approval: 2,
  /** Turns at one GitOps remote (`gitops:<url>`) between replicas. */
  gitopsRemote: 3,
} as const;

export type LockSpaceName = keyof typeof LockSpace;

/** Waits for a fixed lock, held until `tx` ends. */
export async function lockFixed(tx: Db, key: typeof LOCK_MIGRATIONS | typeof LOCK_AUDIT_APPEND | typeof LOCK_SIGNING_KEYS): Promise<void> {
  // The migrations' holder is busy, not stalled (a frozen one is ended by the pool's
  // idle_in_transaction_session_timeout): a replica starting meanwhile waits for it however long
  // the migration runs, instead of failing at the pool's lock_timeout.
  if (key === LOCK_MIGRATIONS && tx.kind === 'postgres') await tx.query("select set_config('lock_timeout', '0', true)");
  await tx.query('select pg_advisory_xact_lock($1)', [key]);
}

/**
 * Waits for the lock of `subject` in `space`, held until `tx` ends. Sent as a simple query (the
 * subject quoted as a literal), so a transaction that starts with it sends its `begin` in the
 * same round trip (store/db.ts; issue #18, registration at registry speed).
 */
export async function lockSubject(tx: Db, space: LockSpaceName, subject: string): Promise<void> {
  await tx.exec(`select pg_advisory_xact_lock(hashtextextended(${pg.escapeLiteral(subject)}, ${LockSpace[space]}))`);
}
