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
