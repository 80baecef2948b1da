/**
 * The database adapter: one small interface over embedded PGlite and PostgreSQL, so every
 * store module is written once in plain SQL and runs on both (DESIGN.md §12).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { restrictModes } from '../config/file-modes.js';

export interface Db {
  readonly kind: 'pglite' | 'postgres';
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Runs a script of one or more statements without parameters (migrations; a lock and a read in
   * one round trip), each statement with its own snapshot. Resolves to the rows of the script's
   * last statement (none for a statement that returns no rows).
   */
  exec<T = Record<string, unknown>>(script: string): Promise<T[]>;
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Watches changes to what release reads show (migration 0150's triggers; issue #18): `change`
   * gets each changed project as `{"repository","project"}` JSON text, or `*` for "anything may
   * have changed". This replica's own transactions are reported before `transaction()` resolves;
   * other replicas' (PostgreSQL) arrive by LISTEN on a connection of the watch's own. `up` is
   * called when every change from then on will be reported, `down` when that is no longer so
   * (the LISTEN connection was lost, or missed a heartbeat: every `heartbeatMs`, default
   * HEARTBEAT_MS, it must receive one this replica sends; it is reconnected after a second).
   * Resolves to a stop function.
   */
  watchReleaseChanges?(watch: ReleaseChangeWatch, heartbeatMs?: number): Promise<() => Promise<void>>;
}

/** What `Db.watchReleaseChanges` reports to. */
export interface ReleaseChangeWatch {
  change(project: string): void;
  up(): void;
  down(): void;
}

/** The NOTIFY channel and transaction-local setting migration 0150's triggers write. */
const RELEASE_CHANNEL = 'forge_release_changes';
/**
 * How often a replica proves its LISTEN connection still delivers, ms: it sends itself a
 * heartbeat on the channel through its pool; one not received before the next is due turns the
 * cache off and reconnects. A connection that stops delivering without closing (a NAT or
 * firewall timeout, a failover behind a virtual IP) can so leave a replica stale for at most
 * twice this (issue #18 attack review).
 */
export const HEARTBEAT_MS = 2000;
const HEARTBEAT = '{"heartbeat":';
const READ_PENDING = "select current_setting('forge.release_changes', true) as pending";

/** The rows of a simple query's last statement: `pg` answers a script of several statements with one result each. */
function lastRows(result: pg.QueryResult | pg.QueryResult[]): never {
  const results = Array.isArray(result) ? result : [result];
  return (results.at(-1)?.rows ?? []) as never;
}

/** The watches of one database handle, told of the release changes each committed transaction made. */
function localChanges() {
  const watches = new Set<ReleaseChangeWatch>();
  return {
    watches,
    committed(pending: string | null | undefined) {
      if (!pending) return;
      for (const project of pending.split('\n')) for (const w of watches) w.change(project);
    },
  };
}

// Timestamps come back as ISO strings and int8 as numbers on both engines.
pg.types.setTypeParser(1184, (v: string) => new Date(v).toISOString()); // timestamptz
pg.types.setTypeParser(20, (v: string) => Number(v)); // int8

/**
 * Parameterised statements are prepared once per connection under a name derived from their
 * text, so PostgreSQL plans each query shape once instead of on every call (the release read,
 * with its aggregated aliases and triggers, spent most of its time being planned).
 */
const names = new Map<string, string>();
function statementName(text: string, params?: unknown[]): string | undefined {
  if (!params?.length) return undefined;
  let name = names.get(text);
  if (!name) names.set(text, (name = `forge_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`));
  return name;
}

/**
 * Bounds on database locks shared by replicas (issue #12: a replica frozen inside the GitOps turn
 * stopped every deployment of the fleet). Every lock Forge takes is transaction-scoped
 * (store/lock-keys.ts), so ending a frozen holder's session frees what it held.
 */
export interface LockBounds {
  /** `lock_timeout`: how long a statement waits for any lock (advisory or row) before failing with SQLSTATE 55P03, ms; 0 = forever. */
  lockWaitMs?: number;
  /** `idle_in_transaction_session_timeout`: a session idle this long inside a transaction is ended by PostgreSQL, releasing its locks, ms; 0 = never. */
  idleInTransactionMs?: number;
}

/** SQLSTATE 55P03 (lock_not_available): a lock wait reached `lock_timeout`. */
export function isLockTimeout(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '55P03';
}

export async function openPostgres(url: string, max = 10, bounds: LockBounds = {}): Promise<Db> {
  // Set on every connection of the pool at start-up (the `options` startup parameter), so no
  // transaction, whichever lock it takes, escapes them.
  const options = [
    bounds.lockWaitMs !== undefined ? `-c lock_timeout=${Math.trunc(bounds.lockWaitMs)}` : '',
    bounds.idleInTransactionMs !== undefined ? `-c idle_in_transaction_session_timeout=${Math.trunc(bounds.idleInTransactionMs)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const pool = new pg.Pool({ connectionString: url, max, ...(options ? { options } : {}) });
  pool.on('error', () => {}); // an idle client dropped by a restarting server; the next query reconnects
  // A client can be told that its connection ended in the same read as the answer to its last
  // query: by then the pool has handed it to the next borrower, whose own listener is attached
  // only after an await. Every client keeps a listener of its own so that such an error cannot
  // crash the process; the borrower learns of it from its next query, which fails.
  pool.on('connect', (client) => client.on('error', () => {}));
  await pool.query('select 1');
  const local = localChanges();
  const listeners = new Set<() => Promise<void>>();
  const wrap =
    (run: (query: pg.QueryConfig) => Promise<pg.QueryResult>): Db['query'] =>
    async (text, params) =>
      (await run({ text, values: params as unknown[], name: statementName(text, params) })).rows as never;
  const db: Db = {
    kind: 'postgres',
    query: wrap((q) => pool.query(q)),
    exec: async (script) => lastRows(await pool.query(script)),
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      // A connection lost while checked out (a database restart during a registry push) is
      // reported by the next query on it; without a listener it would crash the process.
      const lost = () => {
        broken = true;
      };
      client.on('error', lost);
      // `begin` goes out with the transaction's first statement: in the same simple query as a
      // script (a registration's lock; one round trip fewer, issue #18), else just before it. A
      // transaction that ran nothing has nothing to commit or roll back.
      let begun = false;
      const begin = async () => {
        if (begun) return;
        begun = true;
        await client.query('begin');
      };
      try {
        const tx: Db = {
          ...db,
          query: wrap(async (q) => {
            await begin();
            return client.query(q);
          }),
          exec: async (script) => {
            if (begun) return lastRows(await client.query(script));
            begun = true;
            return lastRows(await client.query(`begin; ${script}`));
          },
          transaction: (inner) => inner(tx),
        };
        const result = await fn(tx);
        if (!begun) return result;
        // one round trip: the changes this transaction made, then its commit (two statements
        // of one simple query; a failed commit rejects it and the catch rolls back)
        const [changes] = (await client.query(`${READ_PENDING}; commit`)) as unknown as [{ rows: { pending: string | null }[] }];
        local.committed(changes.rows[0]?.pending);
        return result;
      } catch (err) {
        if (begun)
          await client.query('rollback').catch(() => {
            broken = true;
          });
        throw err;
      } finally {
        client.off('error', lost);
        client.release(broken);
      }
    },
    close: async () => {
      for (const stop of [...listeners]) await stop();
      await pool.end();
    },
    async watchReleaseChanges(watch, heartbeatMs = HEARTBEAT_MS) {
      local.watches.add(watch);
      let stopped = false;
      let client: pg.Client | undefined;
      let retry: NodeJS.Timeout | undefined;
      let beat: NodeJS.Timeout | undefined;
      const connect = async () => {
        if (stopped) return;
        const c = new pg.Client({ connectionString: url, keepAlive: true });
        let lost = false;
        const onLost = () => {
          if (lost) return;
          lost = true;
          clearInterval(beat);
          watch.down();
          c.end().catch(() => {});
          if (client === c) client = undefined;
          if (!stopped) retry = setTimeout(connect, 1000);
        };
        // the heartbeat this connection waits for (undefined: none outstanding)
        let awaited: string | undefined;
        c.on('error', onLost);
        c.on('end', onLost);
        c.on('notification', (n) => {
          const payload = n.payload ?? '*';
          if (!payload.startsWith(HEARTBEAT)) watch.change(payload);
          else if (payload === awaited) awaited = undefined;
        });
        try {
          await c.connect();
          await c.query(`listen ${RELEASE_CHANNEL}`);
        } catch {
          onLost();
          return;
        }
        if (stopped) {
          await c.end().catch(() => {});
          return;
        }
        client = c;
        watch.up();
        let n = 0;
        beat = setInterval(() => {
          if (awaited !== undefined) return onLost(); // the last one never came: nothing proves changes still arrive
          awaited = `${HEARTBEAT}${JSON.stringify(`${process.pid}-${randomUUID()}-${n++}`)}}`;
          pool.query('select pg_notify($1, $2)', [RELEASE_CHANNEL, awaited]).catch(() => {});
        }, heartbeatMs);
        beat.unref();
      };
      const stop = async () => {
        stopped = true;
        listeners.delete(stop);
        local.watches.delete(watch);
        clearTimeout(retry);
        clearInterval(beat);
        const c = client;
        client = undefined;
        if (c) {
          c.removeAllListeners('end');
          c.removeAllListeners('error');
          c.on('error', () => {});
          await c.end().catch(() => {});
        }
      };
      listeners.add(stop);
      await connect();
      return stop;
    },
  };
  return db;
}

export async function openPglite(dir: string): Promise<Db> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lite = await PGlite.create(dir);
  // PGlite sets its files' modes itself (0666), ignoring the umask: take them back (issue 19 item 6).
  restrictModes(dir);
  const norm = (rows: Record<string, unknown>[]) => {
    for (const row of rows) {
      for (const [k, v] of Object.entries(row)) {
        if (v instanceof Date) row[k] = v.toISOString();
        else if (typeof v === 'bigint') row[k] = Number(v);
      }
    }
    return rows;
  };
  // a script's answer: one result per statement; the last one's rows
  const lastOf = (results: { rows: unknown[] }[]) => norm((results.at(-1)?.rows ?? []) as Record<string, unknown>[]) as never;
  const local = localChanges();
  const db: Db = {
    kind: 'pglite',
    query: async (text, params) => norm((await lite.query(text, params)).rows as Record<string, unknown>[]) as never,
    exec: async (script) => lastOf(await lite.exec(script)),
    async transaction(fn) {
      const { result, pending } = await lite.transaction(async (t) => {
        const tx: Db = {
          ...db,
          query: async (text, params) => norm((await t.query(text, params)).rows as Record<string, unknown>[]) as never,
          exec: async (script) => lastOf(await t.exec(script)),
          transaction: (inner) => inner(tx),
        };
        const result = await fn(tx);
        const [row] = (await t.query<{ pending: string | null }>(READ_PENDING)).rows;
        return { result, pending: row?.pending };
      });
      local.committed(pending);
      return result;
    },
    // One replica owns a data directory (server/data-dir-lock.ts): every change is this
    // process's own; those made outside a transaction come back by LISTEN on the same engine.
    async watchReleaseChanges(watch) {
      local.watches.add(watch);
      const unlisten = await lite.listen(RELEASE_CHANNEL, (payload) => watch.change(payload || '*'));
      watch.up();
      return async () => {
        local.watches.delete(watch);
        if (!lite.closed) await unlisten();
      };
    },
    close: async () => {
      await lite.close();
      restrictModes(dir); // files the database created while running
    },
  };
  return db;
}
