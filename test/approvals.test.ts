import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { parsePlatformConfig } from '../src/core/platform-config.js';
import { approvalState, approve, revoke } from '../src/services/approve.js';
import { requestDeployment } from '../src/services/deploy.js';
import { checkPolicy } from '../src/services/policy-check.js';
import { listApprovals } from '../src/store/approvals.js';
import { ENGINES } from './support/db.js';
import { addRelease, deploySetup, operator, REPO, who } from './support/deploy.js';

const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof ForgeError && e.code === c && (!re || re.test(e.message));
const platform = parsePlatformConfig(
  [
    'environments:',
    '  production:',
    '    promotion_policy:',
    '      allowed_triggers: [tag, manual]',
    '      requires_approval: true',
    '      approvals: { required: 2, expires_after: 2h }',
  ].join('\n'),
);
const prod = { repository: REPO, project: 'api', environment: 'production' };
const deployer = who('dora@acme.test', 'deployer:production');
const bob = who('bob@acme.test', 'approver:production');
const carol = who('carol@acme.test', 'approver:production');

for (const engine of ENGINES) {
  test(`approvals: who may approve, justification, binding, expiry, revocation, N distinct approvers (${engine})`, async (t) => {
    const s = await deploySetup(engine, { platform });
    t.after(s.cleanup);
    const r1 = await addRelease(s.db, { number: 1, tags: ['v1'] });
    await addRelease(s.db, { number: 2, tags: ['v2'] });

    await assert.rejects(
      approve(s.ctx, who('x', 'deployer:production', 'approver:staging'), { ...prod, release: 'v1', justification: 'ok' }),
      code('permission_denied', /approver:production or operator/),
    );
    await assert.rejects(approve(s.ctx, bob, { ...prod, release: 'v1', justification: '   ' }), code('validation_error', /justification/));
    await assert.rejects(approve(s.ctx, bob, { ...prod, release: 'v9', justification: 'ok' }), code('not_found'));

    const a = await approve(s.ctx, bob, { ...prod, release: 'v1', justification: 'CAB-1' });
    assert.equal(a.status, 'active');
    assert.equal(a.release_id, r1.id);
    assert.equal(a.release_digest, r1.oci_digest);
    assert.equal(a.release_number, 1);
    assert.equal(a.justification, 'CAB-1');
    assert.equal(Date.parse(a.expires_at) - Date.parse(a.approved_at), 2 * 3600_000, 'expires_after from the environment');
    await assert.rejects(approve(s.ctx, bob, { ...prod, release: 'v1', justification: 'again' }), code('conflict', /already approved/));

    // one approver is not enough for required: 2; the approval of v1 says nothing about v2
    await assert.rejects(
      requestDeployment(s.ctx, deployer, { ...prod, release: 'v1' }),
      code('policy_denied', /needs 2 active approvals from distinct approvers, has 1/),
    );
    await approve(s.ctx, carol, { ...prod, release: 'v2', justification: 'CAB-2' });
    await assert.rejects(requestDeployment(s.ctx, deployer, { ...prod, release: 'v1' }), code('policy_denied'));
    const c = await approve(s.ctx, operator, { ...prod, release: 'v1', justification: 'operator ok' });
    assert.equal((await checkPolicy(s.ctx, deployer, { ...prod, release: 'v1' })).allowed, true);
    assert.deepEqual(await approvalState(s.ctx, r1.id, 'production').then((x) => [x.satisfied, x.required, x.approvals.length]), [
      true,
      2,
      2,
    ]);

    // revoked: no longer counts, only approvers of the environment may revoke, twice is a conflict
    await assert.rejects(revoke(s.ctx, who('y', 'approver:staging'), c.id), code('permission_denied'));
    const revoked = await revoke(s.ctx, carol, c.id);
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.revoked_by, 'carol@acme.test');
    await assert.rejects(revoke(s.ctx, carol, c.id), code('conflict', /revoked/));
    assert.equal((await checkPolicy(s.ctx, deployer, { ...prod, release: 'v1' })).allowed, false);
    await assert.rejects(revoke(s.ctx, carol, '00000000-0000-4000-8000-000000000000'), code('not_found'));

    // expiry: an approval whose time has passed (moved into the past here) is expired and does not count
    const d = await approve(s.ctx, carol, { ...prod, release: 'v1', justification: 'CAB-3' });
    assert.equal((await checkPolicy(s.ctx, deployer, { ...prod, release: 'v1' })).allowed, true);
    await s.db.query(`update approvals set expires_at = now() - interval '1 second' where id = $1`, [d.id]);
    const expired = await checkPolicy(s.ctx, deployer, { ...prod, release: 'v1' });
    assert.equal(expired.allowed, false);
    assert.match(String(expired.checks.find((x) => x.name === 'approvals')!.reason), /1 expired; 1 revoked/);

    const queue = await listApprovals(s.db, { environment: 'production', status: 'active' }, 20, 0);
    assert.deepEqual(queue.items.map((x) => x.approver).sort(), ['bob@acme.test', 'carol@acme.test']);
    assert.equal((await listApprovals(s.db, { status: 'expired' }, 20, 0)).total, 1);
    assert.equal((await listApprovals(s.db, { status: 'revoked' }, 20, 0)).items[0].id, c.id);
    assert.equal((await listApprovals(s.db, {}, 2, 0)).total, 4);
  });
}
