/**
 * What every route of the API shares on the wire (DESIGN.md §10): the error envelope, paging
 * parameters and list pages. The contract's schemas validate requests at the edge, serialise
 * answers and produce the OpenAPI document; its TypeScript types are derived from them, so the
 * server, the CLI and the dashboard cannot drift from what is validated and sent.
 */
import { type Static, type TSchema, Type } from 'typebox';

/** `T` or null: a field that is always present, sometimes without a value. */
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A JSON object of any shape (Kubernetes objects, audit details, artifact outputs). */
export const AnyObject = Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true }));

/** A string of at most `max` characters (request fields: the database and the registry have limits). */
export const Text = (max: number) => Type.String({ maxLength: max });

/** Every failure: `{error: {code, message, details?}}`, the code from src/core/errors.ts. */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(AnyObject),
    }),
  },
  { $id: 'Error' },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

/** The error answers every route may give, for its `response` schema. */
export const errorResponses = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  409: ErrorEnvelope,
  413: ErrorEnvelope,
  500: ErrorEnvelope,
  503: ErrorEnvelope,
};

/**
 * `?limit=` (1-200, default 20) and where the page starts: after `cursor` (the `next` of the
 * previous page, keyset paging: stable while items are added) or, without one, after skipping
 * `offset` items (default 0). One or the other: `cursor` with `offset` is a validation_error
 * (400). A cursor is opaque, does not expire and works on any replica and across restarts.
 * Every list of the API takes these (issue #18). `offset` has no schema default so that a
 * given one can be told from none (the services read a missing offset as 0).
 */
export const Paging = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'default 0; not with cursor' })),
  cursor: Type.Optional(Type.String({ maxLength: 1000 })),
});
export type Paging = Static<typeof Paging>;

/**
 * A page of a list: the items, how many there are in all (`total` counts the whole filtered
 * list, the same on every page, cursor pages included), the page asked for (`offset` is 0 when
 * paged by cursor), and `next`: the cursor of the following page (src/core/cursor.ts), null on
 * the last.
 */
export const ListOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
    next: Nullable(Type.String()),
  });
export type List<T> = Omit<Static<ReturnType<typeof ListOf<TSchema>>>, 'items'> & { items: T[] };

/** What a list query of the store answers: one page of items, how many there are in all, and the cursor of the page after (null: none). */
export type Page<T> = Pick<List<T>, 'items' | 'total' | 'next'>;
