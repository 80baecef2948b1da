/** Registry request failures in words (DESIGN.md §5, §9): what went wrong with a fetch, never its URL or headers. */

/** What went wrong with a fetch, in words, without URLs or headers (which could hold secrets). */
export function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  return e?.cause?.message || e?.cause?.code || e?.message || String(err);
}
