import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PLATFORM_CONFIG, PlatformConfigError, parsePlatformConfig } from '../src/core/platform-config.js';

const SPEC = `environments:
  dev:        { promotion_policy: { allowed_triggers: [branch_push, tag, manual], allowed_branches: ["*"], auto_deploy: true } }
  staging:    { promotion_policy: { allowed_triggers: [branch_push, tag, manual], allowed_branches: [main, "release/*"] } }
  production: { promotion_policy: { allowed_triggers: [tag, manual], allowed_branches: [main], requires_approval: true,
                approvals: { required: 2, expires_after: 12h, allow_self_approval: true } } }
`;

function problems(text: string) {
  try {
    parsePlatformConfig(text, 'forge.yaml');
  } catch (err) {
    assert.ok(err instanceof PlatformConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected the config to be refused');
}

test('the design example parses into environments with policies, in file order', () => {
  const cfg = parsePlatformConfig(SPEC);
  assert.deepEqual(
    cfg.environments.map((e) => e.name),
    ['dev', 'staging', 'production'],
  );
  const [dev, staging, prod] = cfg.environments.map((e) => e.policy);
  assert.equal(dev.autoDeploy, true);
  assert.deepEqual(staging.allowedBranches, ['main', 'release/*']);
  assert.equal(staging.requiresApproval, false);
  assert.deepEqual(prod.allowedTriggers, ['tag', 'manual']);
  assert.deepEqual(prod.approvals, { required: 2, expiresAfterMs: 12 * 3600_000, allowSelfApproval: true });
});

test('approval rules default to 1 approver, 24h, no self-approval; absent branch list means any branch', () => {
  const cfg = parsePlatformConfig(
    'environments:\n  qa:\n    promotion_policy:\n      allowed_triggers: [manual]\n      requires_approval: true\n',
  );
  assert.deepEqual(cfg.environments[0].policy.approvals, { required: 1, expiresAfterMs: 86_400_000, allowSelfApproval: false });
  assert.deepEqual(cfg.environments[0].policy.allowedBranches, ['*']);
});

test('the defaults are the spec three environments', () => {
  assert.deepEqual(
    DEFAULT_PLATFORM_CONFIG.environments.map((e) => [e.name, e.policy.autoDeploy, e.policy.requiresApproval]),
    [
      ['dev', true, false],
      ['staging', false, false],
      ['production', false, true],
    ],
  );
  assert.deepEqual(DEFAULT_PLATFORM_CONFIG.environments[2].policy.allowedTriggers, ['tag', 'manual']);
});

test('an unknown trigger is refused with its line and the accepted values', () => {
  const p = problems('environments:\n  dev:\n    promotion_policy:\n      allowed_triggers: [branch_push, pull_request]\n');
  assert.equal(p.length, 1);
  assert.equal(p[0].line, 4);
  assert.equal(p[0].col, 39);
  assert.match(p[0].message, /unknown trigger "pull_request".*branch_push, tag, manual/);
});

test('a bad branch pattern is refused with its line', () => {
  const p = problems(
    'environments:\n  dev:\n    promotion_policy:\n      allowed_triggers: [branch_push]\n      allowed_branches:\n        - main\n        - "feature/[a-z]"\n',
  );
  assert.equal(p.length, 1);
  assert.equal(p[0].line, 7);
  assert.match(p[0].message, /bad branch pattern "feature\/\[a-z\]"/);
});

test('unknown keys are refused at every level with their line', () => {
  const p = problems(
    [
      'environments:',
      '  dev:',
      '    promotion_policy:',
      '      allowed_triggers: [manual]',
      '      auto_deploi: true',
      '      approvals: { required: 1, expire_after: 1h }',
      'servers: 3',
    ].join('\n'),
  );
  assert.deepEqual(
    p.map((x) => x.line),
    [5, 6, 7],
  );
  assert.match(p[0].message, /unknown key "auto_deploi".*allowed_triggers, allowed_branches, auto_deploy/);
  assert.match(p[1].message, /unknown key "expire_after"/);
  assert.match(p[2].message, /unknown key "servers" in the top level; expected one of: environments/);
});

test('bad values are reported together: types, durations, approver counts, environment names', () => {
  const p = problems(
    [
      'environments:',
      '  Prod_1:',
      '    promotion_policy:',
      '      allowed_triggers: tag',
      '      auto_deploy: yes please',
      '      approvals: { required: 0, expires_after: tomorrow }',
    ].join('\n'),
  );
  assert.deepEqual(
    p.map((x) => x.line),
    [2, 4, 5, 6, 6],
  );
  assert.match(p[0].message, /environment name "Prod_1" is not a DNS label/);
  assert.match(p[1].message, /allowed_triggers must be a list/);
  assert.match(p[2].message, /auto_deploy must be true or false/);
  assert.match(p[3].message, /required must be a whole number of at least 1/);
  assert.match(p[4].message, /expires_after must be a duration/);
});

test('YAML syntax errors and duplicate keys carry their line', () => {
  assert.equal(problems('environments:\n  dev: {\n')[0].line >= 2, true);
  const dup = problems(
    'environments:\n  dev:\n    promotion_policy: {allowed_triggers: [tag]}\n  dev:\n    promotion_policy: {allowed_triggers: [tag]}\n',
  );
  assert.equal(dup[0].line, 4);
  assert.match(dup[0].message, /unique/i);
});

test('the error message lists every problem as file:line:col', () => {
  assert.throws(
    () => parsePlatformConfig('environments:\n  dev:\n    promotion_policy:\n      allowed_triggers: [nope]\n', '/etc/forge.yaml'),
    /\/etc\/forge\.yaml:4:26: unknown trigger "nope"/,
  );
});

test('approvals.expires_after must be a positive duration (src/core/duration.ts parses it)', () => {
  const config = (d: string) =>
    `environments:\n  prod:\n    promotion_policy:\n      allowed_triggers: [tag]\n      approvals:\n        expires_after: ${d}\n`;
  assert.equal(parsePlatformConfig(config('1h30m')).environments[0].policy.approvals.expiresAfterMs, 5_400_000);
  for (const bad of ['0h', '1.5h', '24'])
    assert.throws(() => parsePlatformConfig(config(bad)), /approvals\.expires_after must be a duration/, bad);
});

/** A production environment with these freeze_windows/break_glass lines (indented under it). */
const frozen = (lines: string[]) =>
  ['environments:', '  production:', '    promotion_policy: { allowed_triggers: [tag] }', ...lines.map((l) => `    ${l}`)].join('\n');
const window = (fields: string) => frozen(['freeze_windows:', `  - { name: w, ${fields} }`]);

test('freeze windows that can never take effect or are unbounded are refused, naming the field, the value and what is expected', () => {
  const cases: [string, RegExp][] = [
    // a schedule that never fires
    [
      window('schedule: "0 0 30 2 *", duration: 2h, timezone: UTC'),
      /environments\.production\.freeze_windows\[0\]\.schedule "0 0 30 2 \*" never fires: .*30 February.*expected a schedule that fires, such as "0 18 \* \* 5"/,
    ],
    [
      window('schedule: "0 9 31 4,6,9,11 *", duration: 2h, timezone: UTC'),
      /freeze_windows\[0\]\.schedule "0 9 31 4,6,9,11 \*" never fires/,
    ],
    // applies_to that freezes nothing
    [
      window('from: "2026-12-24T00:00:00Z", to: "2026-12-27T00:00:00Z", applies_to: []'),
      /environments\.production\.freeze_windows\[0\]\.applies_to is \[\], so the window would freeze nothing; expected at least one of auto, manual, rollback/,
    ],
    [window('schedule: "0 18 * * 5", duration: 2h, timezone: UTC, applies_to: []'), /freeze_windows\[0\]\.applies_to is \[\]/],
    // durations: zero, negative, too short, absurd
    [
      window('schedule: "0 18 * * 5", duration: 0s, timezone: UTC'),
      /environments\.production\.freeze_windows\[0\]\.duration "0s" is shorter than a minute; expected a duration such as 2h, 90m or 3d, from 1m to 366d/,
    ],
    [window('schedule: "0 18 * * 5", duration: 0h, timezone: UTC'), /freeze_windows\[0\]\.duration "0h" is shorter than a minute/],
    [window('schedule: "0 18 * * 5", duration: 30s, timezone: UTC'), /freeze_windows\[0\]\.duration "30s" is shorter than a minute/],
    [window('schedule: "0 18 * * 5", duration: "-2h", timezone: UTC'), /freeze_windows\[0\]\.duration "-2h" is not a duration; expected/],
    [
      window('schedule: "0 18 * * 5", duration: 367d, timezone: UTC'),
      /environments\.production\.freeze_windows\[0\]\.duration "367d" is longer than the longest freeze window, 366d; expected .*from 1m to 366d/,
    ],
    [window('schedule: "0 18 * * 5", duration: 99999999d, timezone: UTC'), /freeze_windows\[0\]\.duration "99999999d" is longer than/],
    [window('schedule: "0 18 * * 5", timezone: UTC'), /freeze_windows\[0\] has no duration; expected a duration/],
    // one-off windows: to before from, to equal to from, longer than 366 days
    [
      window('from: "2026-12-27T00:00:00Z", to: "2026-12-24T00:00:00Z"'),
      /environments\.production\.freeze_windows\[0\]\.to "2026-12-24T00:00:00Z" is not after from "2026-12-27T00:00:00Z"; expected a to later than from/,
    ],
    [
      window('from: "2026-12-24T00:00:00Z", to: "2026-12-24T00:00:00Z"'),
      /freeze_windows\[0\]\.to "2026-12-24T00:00:00Z" is not after from/,
    ],
    [
      window('from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z"'),
      /environments\.production\.freeze_windows\[0\]\.to "2100-01-01T00:00:00Z" is 36525 days after from "2000-01-01T00:00:00Z"; a freeze window may last at most 366 days/,
    ],
    [window('from: "2026-12-24T00:00:00Z"'), /freeze_windows\[0\] has no to; expected to: an RFC 3339 time/],
    // break-glass grants: bounded too
    [
      frozen(['break_glass: { expires_after: 25h }']),
      /environments\.production\.break_glass\.expires_after "25h" is longer than the longest break-glass grant, 24h; expected a duration such as 4h, 90m or 1h30m, from 1m to 24h/,
    ],
    [frozen(['break_glass: { expires_after: 9999d }']), /break_glass\.expires_after "9999d" is longer than the longest break-glass grant/],
    [frozen(['break_glass: { expires_after: 0s }']), /break_glass\.expires_after "0s" is not a positive duration/],
    [frozen(['break_glass: { expires_after: 10s }']), /break_glass\.expires_after "10s" is shorter than a minute/],
  ];
  for (const [text, message] of cases) {
    const p = problems(text);
    assert.ok(
      p.some((x) => message.test(x.message)),
      `${text.split('\n').slice(3).join(' ')}\n  expected ${message}\n  got ${p.map((x) => x.message).join(' | ')}`,
    );
  }
});

test('freeze windows at the bounds are accepted: 29 February, 366 days, a day-long grant, one action', () => {
  const parse = (text: string) => parsePlatformConfig(text).environments[0];
  const leap = parse(window('schedule: "0 0 29 2 *", duration: 1m, timezone: UTC')).freezeWindows![0];
  assert.equal(leap.kind === 'recurring' && leap.durationMs, 60_000, 'fires in leap years only, and that is enough');
  assert.equal(parse(window('schedule: "0 0 1 1 *", duration: 366d, timezone: UTC')).freezeWindows![0].kind, 'recurring');
  const once = parse(window('from: "2027-01-01T00:00:00Z", to: "2028-01-02T00:00:00Z", applies_to: [manual]')).freezeWindows![0];
  assert.deepEqual(once.appliesTo, ['manual'], '366 days (2027 has 365) for manual deployments only');
  // both day fields restricted: either matches (crontab(5)), so 30 February or any Monday fires
  assert.ok(parse(window('schedule: "0 0 30 2 1", duration: 2h, timezone: UTC')).freezeWindows![0]);
  assert.equal(parse(frozen(['break_glass: { expires_after: 24h }'])).breakGlassExpiresAfterMs, 86_400_000);
});
