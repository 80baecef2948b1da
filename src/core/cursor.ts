/**
 * The one cursor convention of every list (DESIGN.md §10, issue #18): a page's `next` is the
 * sort key of its last item — a JSON array of strings and numbers, base64url-encoded, opaque to
 * clients — and `?cursor=` answers the items after it in the list's order. A cursor names a
 * place in the order, not a position, so rows inserted between two requests neither repeat nor
 * skip items. Every list's key is unique (it ends in an id or a number), so the order is total.
 */
import { validationError } from './errors.js';

/**
 * What a key holds, position by position: a string, an integer (a number or a sequence), a
 * timestamp (UTC to the microsecond, as the store writes it) or a uuid.
 */
export type CursorShape = readonly ('string' | 'integer' | 'timestamp' | 'uuid')[];

const FITS: Record<CursorShape[number], (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  integer: (v) => Number.isSafeInteger(v),
  timestamp: (v) => typeof v === 'string' && isUtcTimestamp(v),
  uuid: (v) => typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
};

/**
 * Whether `v` is a UTC timestamp the store can hold, written as it writes them
 * (`YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, year 0001-9999): the date and time must name a real instant
 * exactly — no February 31, no hour 24, no second 60, no year 0000 — so they round-trip through
 * a Date unchanged (Date.parse alone rolls `2026-02-31` over into March).
 */
export function isUtcTimestamp(v: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?Z$/.exec(v);
  if (!m || m[1].startsWith('0000')) return false;
  const t = Date.parse(`${m[1]}Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 19) === m[1];
}

/** The cursor naming the place right after an item whose sort key is `key`. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The sort key a cursor of this list names, checked against the list's `shape`. Throws
 * validation_error (400, path `cursor`) for anything this server's list did not give: not
 * base64url JSON, not an array, or values of the wrong kind or number.
 */
export function decodeCursor(cursor: string, shape: CursorShape): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const fits = Array.isArray(key) && key.length === shape.length && key.every((v, i) => FITS[shape[i]](v));
  if (!fits)
    throw validationError([{ path: 'cursor', message: 'is not a cursor this server gave (expected the `next` of a previous page)' }]);
  return key as (string | number)[];
}

/** Where a page starts and how long it is: after the sort key `after`, else after skipping `offset` items. */
export interface PageWindow {
  after?: (string | number)[];
  offset: number;
  limit: number;
}

/**
 * Refuses a list query that gives both `cursor` and `offset` (validation_error 400, path
 * `offset`): the `next` cursor continues a walk, an offset jumps to a position; a page is one or
 * the other. Pages read by cursor report `offset` 0.
 */
export function refuseCursorWithOffset(q: { offset?: number; cursor?: string }): void {
  if (q.cursor !== undefined && q.offset !== undefined)
    throw validationError([
      {
        path: 'offset',
        message: 'give either cursor or offset, not both (the `next` cursor continues a walk; offset jumps to a position)',
      },
    ]);
}

/**
 * The window a list's `?limit=&offset=&cursor=` ask for (`defaultLimit` when no limit): after
 * the cursor's key (the page's `offset` is then 0), else after `offset` items. 400 for a cursor
 * that does not fit the list's `shape`, or for a cursor given with an offset.
 */
export function windowOf(q: { limit?: number; offset?: number; cursor?: string }, shape: CursorShape, defaultLimit = 20): PageWindow {
  refuseCursorWithOffset(q);
  const limit = q.limit ?? defaultLimit;
  if (q.cursor !== undefined) return { after: decodeCursor(q.cursor, shape), offset: 0, limit };
  return { offset: q.offset ?? 0, limit };
}

/**
 * Cuts a page from `rows`, read with `limit + 1` so that the row past the page tells there is a
 * following one: the page's items and `next`, the cursor after its last item (null when none
 * follows). `keyOf` gives an item's sort key.
 */
export function cutPage<T>(rows: T[], limit: number, keyOf: (row: T) => (string | number)[]): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit && items.length ? encodeCursor(keyOf(items[items.length - 1])) : null };
}
