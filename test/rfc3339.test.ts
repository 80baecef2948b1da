/**
 * One parser for every time Forge is given (src/core/rfc3339.ts, issue #16): impossible
 * calendar times (30 February, 31 April, 24:00:01, month 13, 29 February of a common year) are
 * refused wherever a time is taken, with a message naming the value, what is wrong and the
 * expected form; JavaScript's `Date` alone would roll them over into another day. Each entry
 * point is checked: the platform config's one-off windows, the dry run's `at`, the freeze
 * schedule's `at`, the DORA range, a release's commit time, an Argo CD report's times, and the
 * CLI's `--at`/`--from`/`--to`, in process and against a real server.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseApplication } from '../src/core/argocd-application.js';
import { ForgeError } from '../src/core/errors.js';
import { PlatformConfigError, parsePlatformConfig } from '../src/core/platform-config.js';
import { buildResourcesLayer } from '../src/core/release-image.js';
import { parseRfc3339, RFC3339_EXPECTED, rfc3339Problem } from '../src/core/rfc3339.js';
import { freezeSchedule } from '../src/services/break-glass.js';
import { doraMetrics } from '../src/services/dora-metrics.js';
import { checkPolicy } from '../src/services/policy-check.js';
import { type Forge, releaseBody, runCli, sha, startForge } from './support/forge.js';

/** Impossible times, each with what the message must say is wrong. */
const IMPOSSIBLE: [string, RegExp][] = [
  ['2026-02-30T10:00:00Z', /February 2026 has no day 30 \(it has 28 days\)/],
  ['2026-04-31T10:00:00+02:00', /April 2026 has no day 31 \(it has 30 days\)/],
  ['2026-06-01T24:00:01Z', /hour 24 does not exist \(00-23\)/],
  ['2026-06-01T24:00:00Z', /hour 24 does not exist/],
  ['2026-13-01T00:00:00Z', /month 13 does not exist \(01-12\)/],
  ['2026-00-10T00:00:00Z', /month 00 does not exist/],
  ['2025-02-29T12:00:00Z', /February 2025 has no day 29 \(it has 28 days\)/],
  ['2100-02-29T12:00:00Z', /February 2100 has no day 29/], // a century, not divisible by 400: no leap day
  ['2026-06-01T12:60:00Z', /minute 60 does not exist/],
  ['2026-12-31T23:59:60Z', /second 60 does not exist .*leap seconds/],
  ['2026-06-01T12:00:00+24:00', /offset \+24:00 does not exist/],
  ['2026-06-01', /not of the form YYYY-MM-DDThh:mm:ss with a zone/],
  ['2026-06-01T12:00:00', /not of the form/], // no zone: which moment is meant is unknown
  ['next tuesday', /not of the form/],
];

test('the parser refuses impossible calendar times and accepts real ones, leap days included', () => {
  for (const [text, why] of IMPOSSIBLE) {
    assert.equal(parseRfc3339(text), undefined, text);
    const message = rfc3339Problem(text)!;
    assert.ok(message.startsWith(`"${text}" is not a valid time: `), message);
    assert.match(message, why);
    assert.ok(message.endsWith(`expected ${RFC3339_EXPECTED}`), message);
  }
  const ok: [string, string][] = [
    ['2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'], // a leap year
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'], // divisible by 400
    ['2026-04-30T23:59:59+02:00', '2026-04-30T21:59:59.000Z'],
    ['2026-12-31T23:59:59.999999-05:00', '2027-01-01T04:59:59.999Z'],
    ['2026-06-01t12:00:00z', '2026-06-01T12:00:00.000Z'],
    ['2026-06-01 12:00:00+00:00', '2026-06-01T12:00:00.000Z'],
  ];
  for (const [text, instant] of ok) {
    assert.equal(parseRfc3339(text)?.toISOString(), instant, text);
    assert.equal(rfc3339Problem(text), undefined, text);
  }
});

const refusedWith = (text: string, field?: string) => (e: unknown) => {
  const problems = (e as ForgeError).details?.fields as { path: string; message: string }[] | undefined;
  const message = problems?.map((p) => p.message).join('; ') ?? (e as Error).message;
  return (
    e instanceof ForgeError &&
    e.code === 'validation_error' &&
    message.includes(`"${text}" is not a valid time`) &&
    (!field || !!problems?.some((p) => p.path === field))
  );
};

test('every in-process entry point uses it: config, dry run, freeze schedule, DORA range, commit time, Argo CD times', async () => {
  const config = (from: string, to: string) =>
    [
      'environments:',
      '  production:',
      '    promotion_policy: { allowed_triggers: [tag] }',
      '    freeze_windows:',
      `      - { name: holidays, from: "${from}", to: "${to}" }`,
    ].join('\n');
  assert.equal(parsePlatformConfig(config('2028-02-28T00:00:00Z', '2028-02-29T23:00:00Z')).environments[0].freezeWindows!.length, 1);
  const platform = parsePlatformConfig(config('2026-12-24T00:00:00Z', '2026-12-27T00:00:00Z'));
  for (const [text, why] of IMPOSSIBLE.slice(0, 7)) {
    for (const field of ['from', 'to'] as const) {
      const [from, to] = field === 'from' ? [text, '2030-01-01T00:00:00Z'] : ['2020-01-01T00:00:00Z', text];
      assert.throws(
        () => parsePlatformConfig(config(from, to)),
        (e: unknown) =>
          e instanceof PlatformConfigError &&
          e.problems.some(
            (p) =>
              p.message.startsWith(`environments.production.freeze_windows[0].${field}: "${text}" is not a valid time`) &&
              why.test(p.message) &&
              p.message.includes(RFC3339_EXPECTED),
          ),
        `${field}: ${text}`,
      );
    }
    // the dry run's `at` (checked before anything else is read)
    await assert.rejects(
      checkPolicy({} as never, {} as never, { repository: 'acme/mono', project: 'api', environment: 'production', release: '1', at: text }),
      refusedWith(text, 'at'),
      `policy-check at ${text}`,
    );
    assert.throws(() => freezeSchedule({ platform }, { at: text }), refusedWith(text, 'at'), `freeze schedule at ${text}`);
    await assert.rejects(doraMetrics({} as never, { from: text }), refusedWith(text, 'query.from'), `dora from ${text}`);
    await assert.rejects(doraMetrics({} as never, { to: text }), refusedWith(text, 'query.to'), `dora to ${text}`);
    assert.throws(() => buildResourcesLayer([], text), refusedWith(text), `commit time ${text}`);
    const app = parseApplication({ metadata: { name: 'a' }, status: { reconciledAt: text } });
    assert.equal(app.ok, false, `Argo CD reconciledAt ${text}`);
    assert.ok(!app.ok && app.problems.some((p) => p.path === 'status.reconciledAt' && p.message.includes(`"${text}" is not a valid time`)));
  }
  // the real leap day passes each of them
  assert.equal(freezeSchedule({ platform }, { at: '2028-02-29T12:00:00Z' }).at, '2028-02-29T12:00:00.000Z');
  const app = parseApplication({ metadata: { name: 'a' }, status: { reconciledAt: '2028-02-29T12:00:00Z' } });
  assert.ok(app.ok);
});

let forge: Forge;
let token: string;
before(async () => {
  const config = `${process.env.TMPDIR ?? '/tmp'}/forge-rfc3339-${process.pid}.yaml`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    config,
    ['environments:', '  production:', '    promotion_policy: { allowed_triggers: [tag, manual, branch_push] }'].join('\n'),
  );
  forge = await startForge({ env: { FORGE_CONFIG: config } });
  token = await forge.token(['deployer:production', 'service-account'], 'dora@acme.test');
});
after(() => forge?.stop());

test('over HTTP and the CLI: impossible times are 400 validation_error (or a CLI error) naming the value, real ones pass', async () => {
  const feb30 = '2026-02-30T10:00:00Z';
  const release = await forge.api('POST', '/releases', releaseBody({}, sha(1)), token);
  assert.equal(release.status, 201, release.text);
  const bad = await forge.api(
    'POST',
    '/releases',
    releaseBody({ commit: { sha: sha(2), author: 'A <a@example.com>', message: 'm', committed_at: feb30, branches: ['main'] } }, sha(2)),
    token,
  );
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.text, /commit\.committed_at/);
  assert.match(bad.text, /February 2026 has no day 30/);

  const dry = (at: string) =>
    forge.api(
      'POST',
      '/policy-checks',
      { repository: 'acme/mono', project: 'auth-service', environment: 'production', release: '1', at },
      token,
    );
  for (const [text, why] of IMPOSSIBLE.slice(0, 7)) {
    const r = await dry(text);
    assert.equal(r.status, 400, `${text}: ${r.text}`);
    assert.equal(r.body.error.code, 'validation_error');
    assert.match(r.text, why);
    const w = await forge.api('GET', `/freeze-windows?at=${encodeURIComponent(text)}`, undefined, token);
    assert.equal(w.status, 400, `${text}: ${w.text}`);
    const d = await forge.api('GET', `/api/v1/metrics/dora?from=${encodeURIComponent(text)}`, undefined, token);
    assert.equal(d.status, 400, `${text}: ${d.text}`);
  }
  assert.equal((await dry('2028-02-29T12:00:00Z')).status, 200);
  assert.equal((await forge.api('GET', '/freeze-windows?at=2028-02-29T12:00:00Z', undefined, token)).status, 200);

  const env = { FORGE_URL: forge.url, FORGE_TOKEN: token };
  for (const flag of ['--from', '--to']) {
    const r = await runCli(['metrics', flag, '2025-02-29T00:00:00Z'], { env });
    assert.equal(r.code, 2, `a usage error: ${r.stdout}`);
    assert.match(r.stderr, new RegExp(`${flag} "2025-02-29T00:00:00Z" is not a valid time: February 2025 has no day 29`));
  }
  const at = await runCli(['freeze', 'list', '--at', '2026-04-31T00:00:00Z'], { env });
  assert.equal(at.code, 1);
  assert.match(at.stderr, /at: "2026-04-31T00:00:00Z" is not a valid time: April 2026 has no day 31/);
});
