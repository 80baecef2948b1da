/**
 * Unit tests of src/core/freeze-windows.ts and the freeze rule (issue #16 acceptance 1): windows
 * in three time zones across a spring-forward and a fall-back change, refused and allowed to
 * the minute; cron syntax; one-off windows; applies_to; break-glass grants in the rule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  activeFreezes,
  activeOccurrence,
  type FreezeAction,
  type FreezeWindow,
  formatInZone,
  nextOccurrence,
  parseCron,
  zonedInstant,
} from '../../src/core/freeze-windows.js';
import { DEFAULT_PLATFORM_CONFIG } from '../../src/core/platform-config.js';
import { evaluatePolicy, type PolicyInput } from '../../src/core/policy/index.js';
import { parseRfc3339 } from '../../src/core/rfc3339.js';

const ALL: FreezeAction[] = ['auto', 'manual', 'rollback'];
const cron = (name: string, schedule: string, hours: number, timezone: string, appliesTo = ALL): FreezeWindow => ({
  name,
  kind: 'recurring',
  schedule: parseCron(schedule),
  durationMs: hours * 3600_000,
  timezone,
  appliesTo,
});
const minute = (iso: string, delta: number) => new Date(Date.parse(iso) + delta * 60_000);

/**
 * For each window: the first and last frozen minute of the occurrence around a DST change (UTC),
 * checked at start-1, start, end-1 and end minutes. The local reading is in the comment.
 */
const CASES: { what: string; window: FreezeWindow; start: string; end: string; localStart: string }[] = [
  {
    what: 'Berlin spring-forward: 02:30 does not exist on 29 March, the window starts at 03:30 CEST',
    window: cron('nightly', '30 2 * * *', 2, 'Europe/Berlin'),
    start: '2026-03-29T01:30:00Z',
    end: '2026-03-29T03:30:00Z',
    localStart: '2026-03-29T03:30:00+02:00',
  },
  {
    what: 'Berlin fall-back: 02:30 occurs twice on 25 October, the window starts at the first (CEST)',
    window: cron('nightly', '30 2 * * *', 2, 'Europe/Berlin'),
    start: '2026-10-25T00:30:00Z',
    end: '2026-10-25T02:30:00Z',
    localStart: '2026-10-25T02:30:00+02:00',
  },
  {
    what: 'Berlin the day before spring-forward: 02:30 CET',
    window: cron('nightly', '30 2 * * *', 2, 'Europe/Berlin'),
    start: '2026-03-28T01:30:00Z',
    end: '2026-03-28T03:30:00Z',
    localStart: '2026-03-28T02:30:00+01:00',
  },
  {
    what: 'New York spring-forward: Sunday 01:00 EST, 3 h long, ends 05:00 EDT',
    window: cron('sunday-maintenance', '0 1 * * sun', 3, 'America/New_York'),
    start: '2026-03-08T06:00:00Z',
    end: '2026-03-08T09:00:00Z',
    localStart: '2026-03-08T01:00:00-05:00',
  },
  {
    what: 'New York fall-back: Sunday 01:00 occurs twice on 1 November, the first (EDT)',
    window: cron('sunday-maintenance', '0 1 * * 0', 3, 'America/New_York'),
    start: '2026-11-01T05:00:00Z',
    end: '2026-11-01T08:00:00Z',
    localStart: '2026-11-01T01:00:00-04:00',
  },
  {
    what: 'New York the Sunday after fall-back: 01:00 EST',
    window: cron('sunday-maintenance', '0 1 * * 7', 3, 'America/New_York'),
    start: '2026-11-08T06:00:00Z',
    end: '2026-11-08T09:00:00Z',
    localStart: '2026-11-08T01:00:00-05:00',
  },
  {
    what: 'Sydney spring-forward (October): 02:00 does not exist on 4 October, starts 03:00 AEDT',
    window: cron('release-night', '0 2 * * 0', 2, 'Australia/Sydney'),
    start: '2026-10-03T16:00:00Z',
    end: '2026-10-03T18:00:00Z',
    localStart: '2026-10-04T03:00:00+11:00',
  },
  {
    what: 'Sydney fall-back (April): 02:00 occurs twice on 5 April, the first (AEDT)',
    window: cron('release-night', '0 2 * * 0', 2, 'Australia/Sydney'),
    start: '2026-04-04T15:00:00Z',
    end: '2026-04-04T17:00:00Z',
    localStart: '2026-04-05T02:00:00+11:00',
  },
  {
    what: 'Berlin weekend freeze Friday 18:00 for 64 h across spring-forward: elapsed hours, ends 11:00 CEST Monday',
    window: cron('weekend', '0 18 * * fri', 64, 'Europe/Berlin'),
    start: '2026-03-27T17:00:00Z',
    end: '2026-03-30T09:00:00Z',
    localStart: '2026-03-27T18:00:00+01:00',
  },
];

for (const c of CASES) {
  test(`to the minute: ${c.what}`, () => {
    assert.equal(activeOccurrence(c.window, minute(c.start, -1)), undefined, 'the minute before the start is not frozen');
    const first = activeOccurrence(c.window, new Date(c.start));
    assert.ok(first, 'frozen from the first minute');
    assert.equal(first.start.toISOString(), new Date(c.start).toISOString());
    assert.equal(first.end.toISOString(), new Date(c.end).toISOString());
    assert.equal(formatInZone(first.start, (c.window as { timezone: string }).timezone), c.localStart);
    assert.ok(activeOccurrence(c.window, minute(c.end, -1)), 'frozen in the last minute');
    assert.equal(activeOccurrence(c.window, new Date(c.end)), undefined, 'the end is not frozen');
    // the next occurrence seen from the minute before is this one
    assert.equal(nextOccurrence(c.window, minute(c.start, -1))?.start.toISOString(), new Date(c.start).toISOString());
  });
}

test('zonedInstant: gaps move forward by the gap, overlaps take the earlier instant', () => {
  const wall = (s: string) => Date.parse(`${s}Z`);
  assert.equal(new Date(zonedInstant(wall('2026-03-29T02:30:00'), 'Europe/Berlin')).toISOString(), '2026-03-29T01:30:00.000Z');
  assert.equal(new Date(zonedInstant(wall('2026-10-25T02:30:00'), 'Europe/Berlin')).toISOString(), '2026-10-25T00:30:00.000Z');
  assert.equal(new Date(zonedInstant(wall('2026-07-01T12:00:00'), 'Asia/Kolkata')).toISOString(), '2026-07-01T06:30:00.000Z');
  assert.equal(new Date(zonedInstant(wall('2026-07-01T12:00:00'), 'UTC')).toISOString(), '2026-07-01T12:00:00.000Z');
});

test('cron: lists, ranges, steps, names, 7 = Sunday, and day-of-month OR day-of-week when both are restricted', () => {
  const s = parseCron('0,30 9-17/4 * jan-mar mon-fri');
  assert.deepEqual([...s.minutes], [0, 30]);
  assert.deepEqual([...s.hours], [9, 13, 17]);
  assert.deepEqual([...s.months], [1, 2, 3]);
  assert.deepEqual([...s.daysOfWeek].sort(), [1, 2, 3, 4, 5]);
  assert.deepEqual([...parseCron('0 0 * * 5-7').daysOfWeek].sort(), [0, 5, 6]);
  assert.deepEqual([...parseCron('*/15 * * * *').minutes], [0, 15, 30, 45]);
  assert.deepEqual([...parseCron('@daily').hours], [0]);
  // 1st of the month OR a Friday (crontab(5))
  const either = cron('x', '0 12 1 * fri', 1, 'UTC');
  assert.ok(activeOccurrence(either, new Date('2026-05-01T12:30:00Z')), '1 May 2026 is a Friday and the 1st');
  assert.ok(activeOccurrence(either, new Date('2026-05-08T12:30:00Z')), 'a Friday');
  assert.ok(activeOccurrence(either, new Date('2026-06-01T12:30:00Z')), 'the 1st, a Monday');
  assert.equal(activeOccurrence(either, new Date('2026-06-02T12:30:00Z')), undefined);
  // a star day-of-week: only the day of the month
  assert.equal(activeOccurrence(cron('y', '0 12 1 * *', 1, 'UTC'), new Date('2026-05-08T12:30:00Z')), undefined);
  for (const [bad, message] of [
    ['0 18 * *', /4 fields; expected 5/],
    ['60 * * * *', /minute 60 is out of range 0-59/],
    ['0 24 * * *', /hour 24 is out of range/],
    ['0 0 0 * *', /day-of-month 0 is out of range 1-31/],
    ['0 0 * 13 *', /month 13/],
    ['0 0 * * 8', /day-of-week 8/],
    ['0 0 * * funday', /not a number or a name/],
    ['5-1 * * * *', /runs backwards/],
    ['*/0 * * * *', /step must be at least 1/],
  ] as const) {
    assert.throws(() => parseCron(bad), message, bad);
  }
});

test('29 February: the next occurrence is found years ahead', () => {
  const leap = cron('leap', '0 0 29 2 *', 24, 'UTC');
  assert.equal(nextOccurrence(leap, new Date('2026-03-01T00:00:00Z'))?.start.toISOString(), '2028-02-29T00:00:00.000Z');
});

test('one-off windows: [from, to) with RFC 3339 offsets', () => {
  const w: FreezeWindow = {
    name: 'holidays',
    kind: 'once',
    from: parseRfc3339('2026-12-24T00:00:00+01:00')!,
    to: parseRfc3339('2026-12-27T00:00:00+01:00')!,
    appliesTo: ALL,
  };
  assert.equal(activeOccurrence(w, new Date('2026-12-23T22:59:00Z')), undefined);
  assert.ok(activeOccurrence(w, new Date('2026-12-23T23:00:00Z')));
  assert.ok(activeOccurrence(w, new Date('2026-12-26T22:59:00Z')));
  assert.equal(activeOccurrence(w, new Date('2026-12-26T23:00:00Z')), undefined);
  assert.equal(nextOccurrence(w, new Date('2026-12-01T00:00:00Z'))?.name, 'holidays');
  assert.equal(nextOccurrence(w, new Date('2026-12-25T00:00:00Z')), undefined, 'started already: not next');
  for (const bad of ['2026-12-24', '2026-12-24T00:00:00', '2026-13-24T00:00:00Z', 'tomorrow'])
    assert.equal(parseRfc3339(bad), undefined, bad);
});

test('applies_to: a window for manual deployments only leaves auto-deploys and rollbacks alone', () => {
  const w = cron('manual-only', '0 0 * * *', 24, 'UTC', ['manual']);
  const at = new Date('2026-06-01T12:00:00Z');
  assert.equal(activeFreezes([w], at, 'manual').length, 1);
  assert.equal(activeFreezes([w], at, 'auto').length, 0);
  assert.equal(activeFreezes([w], at, 'rollback').length, 0);
});

const production = DEFAULT_PLATFORM_CONFIG.environments[2].policy;
const grant = (over: Partial<{ id: string; granted_at: string; expires_at: string }> = {}) => ({
  id: 'bg-1',
  granted_by: 'bob',
  granted_at: '2026-12-24T08:00:00Z',
  expires_at: '2026-12-24T12:00:00Z',
  ...over,
});
function decide(action: FreezeAction, now: string, over: Partial<NonNullable<PolicyInput['freeze']>> = {}) {
  const windows = [cron('holidays', '0 0 24 12 *', 72, 'Europe/Berlin')];
  const d = evaluatePolicy({
    policy: { ...production, requiresApproval: false },
    triggers: [{ type: 'tag' }],
    commitBranches: ['main'], // a tag release is held to the branch rule too (issue #13 item 1)
    approvals: [],
    deployer: 'dora',
    now: new Date(now),
    freeze: { windows, action, ...over },
  });
  return { allowed: d.allowed, check: d.checks.find((c) => c.name === 'freeze')! };
}

test('the freeze rule: refuses naming the window and until when; a grant in force passes manual and rollback only', () => {
  const inside = '2026-12-24T10:00:00Z';
  const refused = decide('manual', inside);
  assert.equal(refused.allowed, false);
  assert.equal(refused.check.ok, false);
  assert.equal(
    refused.check.reason,
    'frozen by window "holidays" until 2026-12-27T00:00:00+01:00 (Europe/Berlin); manual deployments are refused until then unless a break-glass for this release is granted (forge break-glass request)',
  );
  assert.deepEqual(refused.check.actual, {
    frozen: [{ window: 'holidays', from: '2026-12-23T23:00:00.000Z', until: '2026-12-26T23:00:00.000Z', timezone: 'Europe/Berlin' }],
  });
  assert.equal(decide('manual', '2026-12-23T22:59:00Z').check.ok, true, 'a minute before the window');
  assert.equal(decide('manual', '2026-12-26T23:00:00Z').check.actual, 'not frozen');

  assert.equal(decide('manual', inside, { breakGlass: [grant()] }).allowed, true);
  assert.equal(decide('rollback', inside, { breakGlass: [grant()] }).allowed, true);
  assert.deepEqual((decide('manual', inside, { breakGlass: [grant()] }).check.actual as { break_glass: unknown }).break_glass, {
    id: 'bg-1',
    granted_by: 'bob',
    expires_at: '2026-12-24T12:00:00Z',
  });
  // expired, or not granted yet at that moment: nothing passes
  assert.equal(decide('manual', '2026-12-24T12:00:00Z', { breakGlass: [grant()] }).allowed, false, 'expired at 12:00');
  assert.equal(decide('manual', '2026-12-24T07:59:00Z', { breakGlass: [grant()] }).allowed, false, 'granted at 08:00');
  // auto-deploys stay frozen, grant or not
  const auto = decide('auto', inside, { breakGlass: [grant()] });
  assert.equal(auto.allowed, false);
  assert.match(auto.check.reason!, /auto deployments are refused until then$/);
});

test('the freeze rule does not apply where the environment has no windows', () => {
  const d = evaluatePolicy({
    policy: production,
    triggers: [{ type: 'tag' }],
    approvals: [],
    deployer: 'dora',
    now: new Date(),
    freeze: { windows: [], action: 'manual' },
  });
  assert.equal(
    d.checks.some((c) => c.name === 'freeze'),
    false,
  );
});
