/**
 * Freeze windows and break-glass through the use cases, on both database engines (issue #16
 * acceptance 1 and 2): a frozen environment refuses deploys, rollbacks and auto-deploys per
 * `applies_to` with 403 `policy_denied` and a check named `freeze`; the dry run takes `at`; a
 * break-glass is asked by a deployer, granted by another approver (never the requester), lets
 * that one release through in that one environment until it expires, and is audited.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { parsePlatformConfig } from '../src/core/platform-config.js';
import { autoDeploy } from '../src/services/auto-deploy.js';
import { freezeSchedule, getBreakGlass, grantBreakGlass, listBreakGlass, requestBreakGlass } from '../src/services/break-glass.js';
import { requestDeployment } from '../src/services/deploy.js';
import { checkPolicy } from '../src/services/policy-check.js';
import { requestRollback } from '../src/services/rollback.js';
import { auditAfter } from '../src/store/audit.js';
import { getDeployment } from '../src/store/deployments.js';
import { ENGINES } from './support/db.js';
import { addRelease, deploySetup, REPO, who } from './support/deploy.js';

const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof ForgeError && e.code === c && (!re || re.test(e.message));
const freezeCheck = (e: unknown) =>
  ((e as ForgeError).details as { checks: { name: string; ok: boolean; reason?: string }[] }).checks.find((c) => c.name === 'freeze');

// One-off windows in force now (a window may last at most 366 days): from 30 days ago to 300 days ahead.
const DAY = 86_400_000;
const midnight = (ms: number) => new Date(Math.floor(ms / DAY) * DAY).toISOString().replace('.000Z', 'Z');
const FROM = midnight(Date.now() - 30 * DAY);
const TO = midnight(Date.now() + 300 * DAY);
const until = (window: string) => `frozen by window "${window}" until ${TO.replace(/[.]/g, '\\.')}`;
/** The next Saturday, 10:00 UTC (inside the Berlin weekend window, summer or winter). */
const saturday = new Date(Math.floor(Date.now() / DAY) * DAY + 10 * 3600_000);
while (saturday.getUTCDay() !== 6 || saturday.getTime() < Date.now()) saturday.setTime(saturday.getTime() + DAY);

const platform = parsePlatformConfig(
  [
    'environments:',
    '  dev:',
    '    promotion_policy: { allowed_triggers: [tag, manual, branch_push], auto_deploy: true }',
    '    freeze_windows:',
    // frozen for people, not for auto-deploys
    `      - { name: always-manual, from: "${FROM}", to: "${TO}", applies_to: [manual] }`,
    '  qa:',
    '    promotion_policy: { allowed_triggers: [tag, manual, branch_push], auto_deploy: true }',
    '    freeze_windows:',
    `      - { name: code-freeze, from: "${FROM}", to: "${TO}" }`,
    '  production:',
    '    promotion_policy: { allowed_triggers: [tag, manual] }',
    '    freeze_windows:',
    '      - { name: weekend, schedule: "0 18 * * fri", duration: 62h, timezone: Europe/Berlin }',
    `      - { name: holidays, from: "${FROM}", to: "${TO}", applies_to: [manual, auto] }`,
    '    break_glass: { expires_after: 3h }',
  ].join('\n'),
);
const prod = { repository: REPO, project: 'api', environment: 'production' };
const dora = who('dora@acme.test', 'deployer:production', 'approver:production', 'deployer:dev', 'deployer:qa');
const bob = who('bob@acme.test', 'approver:production');
const stagingApprover = who('sam@acme.test', 'approver:staging');

for (const engine of ENGINES) {
  test(`freeze and break-glass: refusals, the dry run at another moment, grants bound to one release, expiry (${engine})`, async (t) => {
    const s = await deploySetup(engine, { platform });
    t.after(s.cleanup);
    await addRelease(s.db, { number: 1, tags: ['v1'] });
    await addRelease(s.db, { number: 2, tags: ['v2'] });

    // refused: 403 policy_denied with a check named freeze saying which window and until when
    const refusal = await requestDeployment(s.ctx, dora, { ...prod, release: 'v1' }).catch((e) => e);
    assert.ok(code('policy_denied', new RegExp(`freeze: ${until('holidays')}`))(refusal), String(refusal));
    assert.equal(freezeCheck(refusal)?.ok, false);

    // the dry run at another moment: the weekend window (Berlin) on a Saturday, and a Wednesday
    const dry = (at: string, kind?: 'auto' | 'manual' | 'rollback') => checkPolicy(s.ctx, dora, { ...prod, release: 'v1', at, kind });
    const frozenSaturday = (await dry(saturday.toISOString())).checks.find((c) => c.name === 'freeze')!;
    assert.match(
      frozenSaturday.reason!,
      new RegExp(`${until('holidays')} and "weekend" until \\d{4}-\\d\\d-\\d\\dT08:00:00\\+0[12]:00 \\(Europe/Berlin\\)`),
    );
    assert.deepEqual(
      (await dry('2026-06-03T12:00:00+02:00', 'rollback')).checks.find((c) => c.name === 'freeze'),
      {
        name: 'freeze',
        required: 'no freeze window in force for rollback deployments, or a break-glass grant for this release',
        actual: 'not frozen',
        ok: true,
      },
      'holidays do not apply to rollbacks and it is not the weekend',
    );
    await assert.rejects(dry('next tuesday'), code('validation_error', /RFC 3339/));

    // break-glass: asked by a deployer with a reason; the requester may not grant it
    await assert.rejects(requestBreakGlass(s.ctx, bob, { ...prod, release: 'v1', reason: 'hotfix' }), code('permission_denied'));
    await assert.rejects(requestBreakGlass(s.ctx, dora, { ...prod, release: 'v1', reason: '  ' }), code('validation_error', /reason/));
    const bg = await requestBreakGlass(s.ctx, dora, { ...prod, release: 'v1', reason: 'INC-42: payments down' });
    assert.equal(bg.status, 'requested');
    assert.equal(bg.release_number, 1);
    await assert.rejects(requestDeployment(s.ctx, dora, { ...prod, release: 'v1' }), code('policy_denied'), 'asked, not granted');
    await assert.rejects(grantBreakGlass(s.ctx, dora, bg.id, 'I say so'), code('permission_denied', /may not grant it/));
    await assert.rejects(grantBreakGlass(s.ctx, stagingApprover, bg.id, 'ok'), code('permission_denied', /approver:production/));
    await assert.rejects(grantBreakGlass(s.ctx, bob, bg.id, ''), code('validation_error', /justification/));
    await assert.rejects(grantBreakGlass(s.ctx, bob, '00000000-0000-4000-8000-000000000000', 'ok'), code('not_found'));
    const granted = await grantBreakGlass(s.ctx, bob, bg.id, 'CAB emergency approval');
    assert.equal(granted.status, 'granted');
    assert.equal(granted.granted_by, 'bob@acme.test');
    assert.equal(Date.parse(granted.expires_at!) - Date.parse(granted.granted_at!), 3 * 3600_000, 'expires_after from the environment');
    await assert.rejects(grantBreakGlass(s.ctx, who('carol', 'approver:production'), bg.id, 'again'), code('conflict'));

    // the grant lets release 1 through, and nothing else: not release 2, not release 1 elsewhere
    await assert.rejects(requestDeployment(s.ctx, dora, { ...prod, release: 'v2' }), code('policy_denied', /freeze/));
    await assert.rejects(
      requestDeployment(s.ctx, dora, { ...prod, environment: 'qa', release: 'v1' }),
      code('policy_denied', /code-freeze/),
    );
    const d = await requestDeployment(s.ctx, dora, { ...prod, release: 'v1', reason: 'INC-42' });
    assert.equal(d.deployment.status, 'active');
    // the deployment names the grant it passed under, read back too, and its audit entry does
    assert.equal(d.deployment.break_glass_id, bg.id);
    assert.equal((await getDeployment(s.db, d.deployment.id))?.break_glass_id, bg.id);
    const requested = (await auditAfter(s.db, 0, 1000)).find((e) => e.action === 'deployment.requested' && e.subject === d.deployment.id);
    assert.equal((requested?.details as { break_glass_id?: string } | undefined)?.break_glass_id, bg.id);
    // and from the grant, the auditor reads its reason and second person
    const grantRead = await getBreakGlass(s.ctx, d.deployment.break_glass_id!);
    assert.deepEqual(
      [grantRead.reason, grantRead.requested_by, grantRead.granted_by],
      ['INC-42: payments down', 'dora@acme.test', 'bob@acme.test'],
    );
    // the dry run after the grant's expiry: refused again
    const later = new Date(Date.parse(granted.expires_at!) + 60_000).toISOString();
    assert.equal((await dry(later)).allowed, false);
    assert.equal((await dry(new Date(Date.parse(granted.expires_at!) - 60_000).toISOString())).allowed, true);

    // expired (its time moved into the past here): lets nothing through, not even release 1
    await s.db.query(
      `update break_glass set granted_at = now() - interval '4 hours', expires_at = now() - interval '1 second' where id = $1`,
      [bg.id],
    );
    assert.equal((await listBreakGlass(s.ctx, { status: 'expired' })).items[0].id, bg.id);
    const bg2 = await requestBreakGlass(s.ctx, dora, { ...prod, release: 'v2', reason: 'next fix' });
    await grantBreakGlass(s.ctx, bob, bg2.id, 'ok');
    assert.equal((await requestDeployment(s.ctx, dora, { ...prod, release: 'v2' })).deployment.break_glass_id, bg2.id);
    // rolling back to release 1 is not frozen by holidays (applies_to), only by the weekend window if it is the weekend now
    const weekend = (await checkPolicy(s.ctx, dora, { ...prod, release: 'v1', kind: 'rollback' })).checks.find((c) => c.name === 'freeze')!;
    if (weekend.ok) assert.equal((await requestRollback(s.ctx, dora, { ...prod })).release_number, 1);
    else await assert.rejects(requestRollback(s.ctx, dora, { ...prod }), code('policy_denied', /weekend/));

    // every step audited (and so a webhook event)
    const log = await auditAfter(s.db, 0, 1000);
    const steps = log.filter((e) => e.action.startsWith('break_glass.')).map((e) => [e.action, e.actor, e.subject]);
    assert.deepEqual(steps, [
      ['break_glass.requested', 'dora@acme.test', bg.id],
      ['break_glass.granted', 'bob@acme.test', bg.id],
      ['break_glass.requested', 'dora@acme.test', bg2.id],
      ['break_glass.granted', 'bob@acme.test', bg2.id],
    ]);

    // the schedule: what is in force now and what comes next
    const schedule = freezeSchedule(s.ctx, { environment: 'production', at: '2026-06-03T12:00:00Z' });
    assert.deepEqual(schedule.current, [], 'the one-off windows start later');
    assert.deepEqual(
      freezeSchedule(s.ctx, { environment: 'production' }).current.map((w) => w.window),
      ['holidays'],
    );
    assert.deepEqual(schedule.next[0], {
      environment: 'production',
      window: 'weekend',
      start: '2026-06-05T16:00:00.000Z',
      end: '2026-06-08T06:00:00.000Z',
      timezone: 'Europe/Berlin',
      applies_to: ['auto', 'manual', 'rollback'],
    });
  });

  test(`freeze and auto-deploys: frozen unless applies_to leaves them out; a grant does not unfreeze them (${engine})`, async (t) => {
    const s = await deploySetup(engine, { platform });
    t.after(s.cleanup);
    const r1 = await addRelease(s.db, { number: 1, tags: ['v1'] });
    const bg = await requestBreakGlass(s.ctx, dora, {
      repository: REPO,
      project: 'api',
      environment: 'qa',
      release: 'v1',
      reason: 'urgent',
    });
    await grantBreakGlass(s.ctx, who('quinn', 'approver:qa'), bg.id, 'ok');
    const out = await autoDeploy(s.ctx, r1);
    await Promise.all(s.ctx.inflight);
    const byEnv = Object.fromEntries(out.map((o) => [o.environment, o.status]));
    assert.deepEqual(byEnv, { dev: 'pending', qa: 'failed' }, 'dev freezes manual deploys only; qa freezes all, grant or not');
    const devCheck = (kind: 'auto' | 'manual') =>
      checkPolicy(s.ctx, dora, { repository: REPO, project: 'api', environment: 'dev', release: 'v1', kind }).then((r) => r.allowed);
    assert.deepEqual([await devCheck('auto'), await devCheck('manual')], [true, false]);
    const dev = out.find((o) => o.environment === 'dev')!;
    assert.equal((await getDeployment(s.db, dev.id))?.break_glass_id, null, 'no window applied: no grant recorded');
    const qa = out.find((o) => o.environment === 'qa')!;
    const [row] = await s.db.query<{ error: string }>('select error from deployments where id = $1', [qa.id]);
    assert.match(row.error, new RegExp(`freeze: ${until('code-freeze')}; auto deployments are refused until then`));
  });
}
