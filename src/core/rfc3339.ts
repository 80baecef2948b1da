/**
 * THE parser of times people and other systems send (issue #16): RFC 3339 date-times with a
 * zone, `2026-12-24T18:00:00+01:00` or `2026-12-24T17:00:00Z` (`T` or a space between date and
 * time, any fraction of a second). JavaScript's `Date` rolls impossible dates over
 * (`2026-02-30` becomes 2 March), so the fields are checked here first: month 01-12, a day the
 * month has (29 February in leap years only), hour 00-23, minute and second 00-59 (a leap second,
 * `:60`, is refused: nothing here can place it), offset hours 00-23 and minutes 00-59. Every
 * time taken from a request, a query, the platform config, a CLI flag or an Argo CD report is
 * read through this module. Pure.
 */

/** What an RFC 3339 time looks like, for messages. */
export const RFC3339_EXPECTED = 'an RFC 3339 time with a zone, such as 2026-12-24T18:00:00+01:00 or 2026-12-24T17:00:00Z';

const FORM = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** Days in `month` (1-12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Why `text` is not an RFC 3339 time (a short phrase), or undefined when it is one. */
function problem(text: string): string | undefined {
  const m = FORM.exec(text);
  if (!m) return 'not of the form YYYY-MM-DDThh:mm:ss with a zone (Z or ±hh:mm)';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12) return `month ${m[2]} does not exist (01-12)`;
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return `${MONTHS[month - 1]} ${year} has no day ${m[3]} (it has ${days} days)`;
  if (hour > 23) return `hour ${m[4]} does not exist (00-23)`;
  if (minute > 59) return `minute ${m[5]} does not exist (00-59)`;
  if (second > 59) return `second ${m[6]} does not exist (00-59; leap seconds are not accepted)`;
  if (m[8] !== undefined && (Number(m[8]) > 23 || Number(m[9]) > 59)) return `offset ${text.slice(-6)} does not exist (±00:00 to ±23:59)`;
  return undefined;
}

/** `text` as an instant, or undefined when it is not an RFC 3339 time naming a real moment. */
export function parseRfc3339(text: string): Date | undefined {
  if (typeof text !== 'string' || problem(text) !== undefined) return undefined;
  const d = new Date(text.toUpperCase().replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * A message for a time that `parseRfc3339` refused, naming the value, what is wrong with it and
 * what is expected: `"2026-02-30T10:00:00Z" is not a valid time: February 2026 has no day 30
 * (it has 28 days); expected an RFC 3339 time with a zone, such as …`. Undefined for a valid one.
 */
export function rfc3339Problem(text: string): string | undefined {
  const p = typeof text === 'string' ? problem(text) : 'not a string';
  if (p === undefined && parseRfc3339(text)) return undefined;
  const shown = typeof text === 'string' ? JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text) : String(text);
  return `${shown} is not a valid time: ${p ?? 'out of range'}; expected ${RFC3339_EXPECTED}`;
}
