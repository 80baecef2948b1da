/**
 * Freeze windows (issue #16, spec §Policies & Approvals): when deployments to an environment
 * are refused. Pure: no I/O; time zones through the runtime's IANA database (`Intl`).
 *
 * Two kinds of window:
 *  - recurring: a 5-field cron `schedule` (minute hour day-of-month month day-of-week, as
 *    crontab(5): lists, ranges, steps, names; day-of-month and day-of-week restricted both =
 *    either matches) read as wall-clock time in `timezone`, lasting `duration`;
 *  - one-off: `from` and `to`, RFC 3339 instants.
 *
 * Daylight-saving changes (decisions.md): a window starts at the wall-clock time the cron
 * names in its time zone and lasts `duration` of elapsed time (as Argo CD's sync windows and
 * Go's time.Duration do: a 2h window is 2 hours long on the night the clocks change too). A
 * wall-clock start that does not exist (the spring-forward gap) is moved forward by the gap's
 * length (02:30 → 03:30); one that occurs twice (fall-back) is the earlier one. This is
 * Temporal's "compatible" disambiguation and RFC 5545's rule.
 */

/** What a freeze applies to: auto-deploys, deployments asked by a person, and rollbacks (W7's automatic ones too). */
export const FREEZE_ACTIONS = ['auto', 'manual', 'rollback'] as const;
export type FreezeAction = (typeof FREEZE_ACTIONS)[number];

export interface CronSchedule {
  /** The text as written. */
  source: string;
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  /** 0 = Sunday … 6 = Saturday. */
  daysOfWeek: Set<number>;
  domRestricted: boolean;
  dowRestricted: boolean;
}

export type FreezeWindow =
  | {
      name: string;
      kind: 'recurring';
      schedule: CronSchedule;
      /** Elapsed length, milliseconds. */
      durationMs: number;
      timezone: string;
      appliesTo: FreezeAction[];
    }
  | { name: string; kind: 'once'; from: Date; to: Date; appliesTo: FreezeAction[] };

/** One occurrence of a window: [start, end). */
export interface FreezeOccurrence {
  name: string;
  start: Date;
  end: Date;
  appliesTo: FreezeAction[];
  /** The window's time zone (recurring windows), for showing local times. */
  timezone?: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function field(text: string, what: string, min: number, max: number, names?: string[]): { values: Set<number>; restricted: boolean } {
  const values = new Set<number>();
  const num = (s: string): number => {
    const named = names?.indexOf(s.toLowerCase()) ?? -1;
    if (named >= 0) return named + (names === MONTHS ? 1 : 0);
    if (!/^\d+$/.test(s)) throw new Error(`${what} "${s}" is not a number${names ? ' or a name' : ''}`);
    const n = Number(s);
    // day-of-week 7 is Sunday too
    const top = what === 'day-of-week' ? 7 : max;
    if (n < min || n > top) throw new Error(`${what} ${n} is out of range ${min}-${top}`);
    return what === 'day-of-week' && n === 7 ? 0 : n;
  };
  for (const part of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`${what} "${part}" is not a value, range or step`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) throw new Error(`${what} step must be at least 1`);
    let lo: number;
    let hi: number;
    if (m[1] === '*') {
      lo = min;
      hi = max;
    } else if (m[1].includes('-')) {
      const [a, b, ...rest] = m[1].split('-');
      if (rest.length) throw new Error(`${what} "${m[1]}" is not a range`);
      lo = num(a);
      hi = num(b);
      if (what === 'day-of-week' && b === '7') hi = 7;
      if (hi < lo) throw new Error(`${what} range ${m[1]} runs backwards`);
    } else {
      lo = num(m[1]);
      hi = m[2] === undefined ? lo : max;
    }
    for (let v = lo; v <= hi; v += step) values.add(what === 'day-of-week' ? v % 7 : v);
  }
  return { values, restricted: text !== '*' && !text.startsWith('*/') };
}

/**
 * Parses a 5-field cron expression (or a macro such as `@daily`). Throws an Error saying which
 * field is wrong and why.
 */
export function parseCron(source: string): CronSchedule {
  const text = MACROS[source.trim().toLowerCase()] ?? source.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    throw new Error(`"${source}" has ${parts.length} fields; expected 5: minute hour day-of-month month day-of-week (e.g. "0 18 * * 5")`);
  const minutes = field(parts[0], 'minute', 0, 59);
  const hours = field(parts[1], 'hour', 0, 23);
  const dom = field(parts[2], 'day-of-month', 1, 31);
  const months = field(parts[3], 'month', 1, 12, MONTHS);
  const dow = field(parts[4], 'day-of-week', 0, 6, DAYS);
  return {
    source,
    minutes: minutes.values,
    hours: hours.values,
    daysOfMonth: dom.values,
    months: months.values,
    daysOfWeek: dow.values,
    domRestricted: dom.restricted,
    dowRestricted: dow.restricted,
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** Whether `timezone` is an IANA time zone the runtime knows. */
export function isTimeZone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of instant `ms` in `timezone`, as milliseconds of a UTC clock showing them. */
function wallClock(ms: number, timezone: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
}

/** The zone's offset from UTC at instant `ms`, milliseconds (Berlin in summer: +7 200 000). */
export function offsetAt(ms: number, timezone: string): number {
  const whole = Math.floor(ms / 1000) * 1000;
  return wallClock(whole, timezone) - whole;
}

/**
 * The instant at which the wall clock of `timezone` shows `wall` (milliseconds of a UTC clock
 * showing those fields), with the "compatible" disambiguation: a time in a spring-forward gap
 * moves forward by the gap, a time that occurs twice is the earlier one.
 */
export function zonedInstant(wall: number, timezone: string): number {
  const before = offsetAt(wall - 86_400_000, timezone);
  const after = offsetAt(wall + 86_400_000, timezone);
  const candidates = [wall - before, wall - after].filter((t) => wallClock(t, timezone) === wall);
  if (candidates.length) return Math.min(...candidates);
  return wall - before; // in the gap: the offset before it, which lands after it
}

const DAY = 86_400_000;

function dayMatches(s: CronSchedule, dayWall: number): boolean {
  const d = new Date(dayWall);
  if (!s.months.has(d.getUTCMonth() + 1)) return false;
  const dom = s.daysOfMonth.has(d.getUTCDate());
  const dow = s.daysOfWeek.has(d.getUTCDay());
  if (s.domRestricted && s.dowRestricted) return dom || dow;
  return dom && dow;
}

/**
 * The first day (UTC midnight, ms) at or after 2000-01-01 on which `s` fires, looking through a
 * whole 400-year Gregorian cycle (after which weekdays and leap days repeat); undefined when it
 * never fires (`0 0 30 2 *`: 30 February; `0 0 31 4,6 *`).
 */
export function firstFiringDay(s: CronSchedule): number | undefined {
  const longest = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const someDate = [...s.months].some((m) => [...s.daysOfMonth].some((d) => d <= longest[m]));
  if (!someDate && !(s.domRestricted && s.dowRestricted)) return undefined; // no such date at all: no need to look
  const start = Date.UTC(2000, 0, 1);
  for (let day = start, end = Date.UTC(2400, 0, 1); day < end; day += DAY) if (dayMatches(s, day)) return day;
  return undefined;
}

/** The schedule's times of day, minutes after midnight, ascending. */
function timesOfDay(s: CronSchedule): number[] {
  const out: number[] = [];
  for (const h of [...s.hours].sort((a, b) => a - b)) for (const m of [...s.minutes].sort((a, b) => a - b)) out.push(h * 60 + m);
  return out;
}

type Recurring = Extract<FreezeWindow, { kind: 'recurring' }>;

function occurrence(w: Recurring, startWall: number): FreezeOccurrence {
  const start = zonedInstant(startWall, w.timezone);
  return {
    name: w.name,
    start: new Date(start),
    end: new Date(start + w.durationMs),
    appliesTo: w.appliesTo,
    timezone: w.timezone,
  };
}

/** The latest occurrence of a recurring window that starts at or before `at`, looking back `lookBackDays`; or undefined. */
function latestStart(w: Recurring, at: number, lookBackDays: number): FreezeOccurrence | undefined {
  const times = timesOfDay(w.schedule).reverse();
  const today = Math.floor(wallClock(at, w.timezone) / DAY) * DAY;
  // from tomorrow (a gap can move a start from just past midnight to before `at`) backwards
  for (let day = today + DAY; day >= today - lookBackDays * DAY; day -= DAY) {
    if (!dayMatches(w.schedule, day)) continue;
    for (const t of times) {
      const o = occurrence(w, day + t * 60_000);
      if (o.start.getTime() <= at) return o;
    }
  }
  return undefined;
}

/** The first occurrence of a recurring window that starts after `at`, within `lookAheadDays`; or undefined. */
function nextStart(w: Recurring, at: number, lookAheadDays: number): FreezeOccurrence | undefined {
  const times = timesOfDay(w.schedule);
  const today = Math.floor(wallClock(at, w.timezone) / DAY) * DAY;
  for (let day = today - DAY; day <= today + lookAheadDays * DAY; day += DAY) {
    if (!dayMatches(w.schedule, day)) continue;
    for (const t of times) {
      const o = occurrence(w, day + t * 60_000);
      if (o.start.getTime() > at) return o;
    }
  }
  return undefined;
}

/** The occurrence of `w` in force at `at` ([start, end) contains it), or undefined. */
export function activeOccurrence(w: FreezeWindow, at: Date): FreezeOccurrence | undefined {
  const t = at.getTime();
  if (w.kind === 'once') {
    return w.from.getTime() <= t && t < w.to.getTime() ? { name: w.name, start: w.from, end: w.to, appliesTo: w.appliesTo } : undefined;
  }
  // the latest start at or before `at` ends last (every occurrence lasts the same)
  const o = latestStart(w, t, Math.ceil(w.durationMs / DAY) + 2);
  return o && o.end.getTime() > t ? o : undefined;
}

/** The next occurrence of `w` that starts after `at` (within about four years: 29 February), or undefined. */
export function nextOccurrence(w: FreezeWindow, at: Date): FreezeOccurrence | undefined {
  if (w.kind === 'once') {
    return w.from.getTime() > at.getTime() ? { name: w.name, start: w.from, end: w.to, appliesTo: w.appliesTo } : undefined;
  }
  return nextStart(w, at.getTime(), 4 * 366 + 1);
}

/** The windows in force at `at` that apply to `action`, ending last first. */
export function activeFreezes(windows: readonly FreezeWindow[], at: Date, action?: FreezeAction): FreezeOccurrence[] {
  return windows
    .filter((w) => action === undefined || w.appliesTo.includes(action))
    .map((w) => activeOccurrence(w, at))
    .filter((o): o is FreezeOccurrence => o !== undefined)
    .sort((a, b) => b.end.getTime() - a.end.getTime());
}

/** `2026-03-29T03:30:00+02:00`: an instant as RFC 3339 in `timezone` (UTC as `Z` when absent). */
export function formatInZone(at: Date, timezone?: string): string {
  if (!timezone) return at.toISOString().replace(/\.000Z$/, 'Z');
  const off = offsetAt(at.getTime(), timezone);
  const wall = new Date(Math.floor(at.getTime() / 1000) * 1000 + off).toISOString().slice(0, 19);
  const abs = Math.abs(off) / 60_000;
  return `${wall}${off < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
