/**
 * Durations as people write them in settings and the platform config: `45s`, `90m`, `24h`,
 * `7d`, or combined largest unit first (`1h30m`, `2d12h`). One parser, one unit: milliseconds.
 */

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * `24h`, `90m`, `7d`, `1h30m`, `45s`, `0s` → milliseconds (a whole number, ≥ 0); undefined when
 * the text is not such a duration (empty, no unit, a fraction, an unknown unit, units out of
 * order). Callers that need a positive duration check `> 0` themselves.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0));
  const ms = (((d * 24 + h) * 60 + min) * 60 + s) * 1000;
  return Number.isSafeInteger(ms) ? ms : undefined;
}
