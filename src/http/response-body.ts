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
export async function readBodyCapped(res: Response, limit: number): Promise<Buffer> {
  const announced = res.headers.get('content-length');
  if (announced !== null && Number(announced) > limit && !res.headers.get('content-encoding')) {
    await res.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(Number(announced), true, limit);
  }
  const reader = res.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLargeError(total, false, limit);
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, total);
}
