/**
 * Reading an HTTP answer's body with a cap (issue #19 item 4): every read from a registry, a
 * token service or Argo CD goes through here, so an endless or oversized answer costs at most
 * `limit` bytes of memory.
 */

/** The body passed its cap: `bytes` seen so far (or announced by Content-Length when `announced`). */
export class BodyTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly announced: boolean,
    readonly limit: number,
  ) {
    super(`the answer is larger than ${limit} bytes (${bytes}${announced ? ' announced' : ' or more'})`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * The body as bytes, read as it streams and never past `limit` bytes. A larger Content-Length
 * (of an unencoded body) is refused before reading; a body that passes the limit while it
 * streams is cancelled (the connection dropped). Throws BodyTooLargeError; errors of the
 * stream itself (a dropped connection, a timeout) pass through unchanged.
 */
export async function readBodyCapped(res: HttpAnswer, limit: number): Promise<Buffer> {
  const announced = res.headers.get('content-length');
  if (announced !== null && Number(announced) > limit && !res.headers.get('content-encoding')) {
    await discardBody(res);
    throw new BodyTooLargeError(Number(announced), true, limit);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  // leaving the loop early (the cap, an error) cancels the stream: the connection is dropped
  for await (const value of res.body) {
    total += value.byteLength;
    if (total > limit) throw new BodyTooLargeError(total, false, limit);
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, total);
}

/**
 * An HTTP answer as both clients give it: the fetch API's `Response`, or src/http/client.ts's
 * answer over Node's `http` (whose body is a Node stream).
 */
export interface HttpAnswer {
  status: number;
  headers: { get(name: string): string | null };
  body: AsyncIterable<Uint8Array> | null;
}

/** Drops the rest of a body without reading it (the fetch API's cancel, or the Node client's discard). */
export async function discardBody(res: HttpAnswer): Promise<void> {
  const own = res as HttpAnswer & { discard?: () => void };
  if (own.discard) return own.discard();
  await (res.body as ReadableStream | null)?.cancel().catch(() => {});
}
