/**
 * Waiting for something that happens after an answer (a log line written, a background job
 * done) by polling, instead of a fixed sleep that is too short on a busy machine and wasted on
 * a quiet one.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `probe` every `everyMs` milliseconds until it returns a truthy value, and returns that
 * value; throws an Error naming `what` when `withinMs` milliseconds pass first. The deadline is
 * a guard against hanging, not a measurement: keep it generous.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  { withinMs = 20_000, everyMs = 25 }: { withinMs?: number; everyMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`gave up after ${withinMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
