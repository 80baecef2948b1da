/** Unit tests of freeze_windows and break_glass in the platform config (issue #16): parsed, and every mistake named with its line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activeOccurrence } from '../../src/core/freeze-windows.js';
import { PlatformConfigError, parsePlatformConfig } from '../../src/core/platform-config.js';

const env = (lines: string[]) =>
  ['environments:', '  production:', '    promotion_policy:', '      allowed_triggers: [tag]', ...lines.map((l) => `    ${l}`)].join('\n');

test('freeze windows: recurring and one-off, applies_to defaulting to all three; break_glass.expires_after', () => {
  const config = parsePlatformConfig(
    env([
      'freeze_windows:',
      '  - { name: weekend, schedule: "0 18 * * 5", duration: 64h, timezone: Europe/Berlin, applies_to: [auto, manual] }',
      '  - name: holidays',
      '    from: "2026-12-24T00:00:00+01:00"',
      '    to: "2026-12-27T00:00:00+01:00"',
      'break_glass: { expires_after: 2h }',
    ]),
  );
  const production = config.environments[0];
  assert.equal(production.breakGlassExpiresAfterMs, 2 * 3600_000);
  const [weekend, holidays] = production.freezeWindows!;
  assert.equal(weekend.kind, 'recurring');
  assert.deepEqual(weekend.appliesTo, ['auto', 'manual']);
  assert.deepEqual(holidays.appliesTo, ['auto', 'manual', 'rollback']);
  assert.ok(activeOccurrence(weekend, new Date('2026-06-06T12:00:00Z')), 'Saturday noon');
  assert.ok(activeOccurrence(holidays, new Date('2026-12-25T12:00:00Z')));
  assert.equal(parsePlatformConfig(env([])).environments[0].freezeWindows, undefined);
});

test('freeze window mistakes are reported with their line and what was expected', () => {
  const cases: [string[], RegExp][] = [
    [['freeze_windows: { name: x }'], /freeze_windows must be a list of windows/],
    [['freeze_windows:', '  - { schedule: "0 18 * * 5", duration: 2h, timezone: UTC }'], /:6:\d+: .*has no name/],
    [['freeze_windows:', '  - { name: a, schedule: "0 18 * *", duration: 2h, timezone: UTC }'], /schedule: .*4 fields; expected 5/],
    [
      ['freeze_windows:', '  - { name: a, schedule: "0 18 * * 5", duration: soon, timezone: UTC }'],
      /freeze_windows\[0\]\.duration "soon" is not a duration; expected a duration such as 2h/,
    ],
    [['freeze_windows:', '  - { name: a, schedule: "0 18 * * 5", duration: 2h, timezone: Mars/Olympus }'], /not an IANA time zone/],
    [['freeze_windows:', '  - { name: a, schedule: "0 18 * * 5", duration: 2h }'], /has no timezone/],
    [
      ['freeze_windows:', '  - { name: a, from: "2026-12-24", to: "2026-12-27T00:00:00Z" }'],
      /freeze_windows\[0\]\.from: "2026-12-24" is not a valid time: .*expected an RFC 3339 time/,
    ],
    [
      ['freeze_windows:', '  - { name: a, from: "2026-12-27T00:00:00Z", to: "2026-12-24T00:00:00Z" }'],
      /freeze_windows\[0\]\.to "2026-12-24T00:00:00Z" is not after from "2026-12-27T00:00:00Z"/,
    ],
    [
      ['freeze_windows:', '  - { name: a, from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00Z", applies_to: [deploys] }'],
      /unknown "deploys"/,
    ],
    [['freeze_windows:', '  - { name: a, when: always }'], /unknown key "when"/],
    [['freeze_windows:', '  - { name: a }'], /needs either schedule, duration and timezone, or from and to/],
    [
      [
        'freeze_windows:',
        '  - { name: a, from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00Z" }',
        '  - { name: a, from: "2027-12-24T00:00:00Z", to: "2027-12-27T00:00:00Z" }',
      ],
      /a window named "a" is already listed/,
    ],
    [
      ['break_glass: { expires_after: forever }'],
      /break_glass\.expires_after "forever" is not a positive duration; expected a duration such as 4h/,
    ],
  ];
  for (const [lines, message] of cases) {
    assert.throws(
      () => parsePlatformConfig(env(lines)),
      (e: unknown) => e instanceof PlatformConfigError && message.test(e.message),
      `${lines.join(' ')} → ${message}`,
    );
  }
});
