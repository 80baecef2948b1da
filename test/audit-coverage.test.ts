/**
 * Every state change is in the audit log (issue 6, acceptance 4), with actor, time, subject,
 * details and the previous entry's hash, through the real API: release created, alias and
 * trigger added, deployment requested / active / superseded, policy refusal, permission
 * refusal, approval granted and revoked, pin and unpin. The chain verifies afterwards.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';

describe('audit coverage of state changes', () => {
  let forge: Forge;
  before(async () => {
    forge = await startForge();
  });
  after(() => forge.stop());

  test('each change appends one chained entry naming who did what to which subject', async () => {
    const ci = await forge.token(['service-account'], 'ci@example.com');
    const ops = await forge.token(['operator'], 'olga@example.com');
    const dana = await forge.token(['deployer:staging', 'deployer:production'], 'dana@example.com');
    const alex = await forge.token(['approver:production'], 'alex@example.com');
    const target = { repository: 'acme/mono', project: 'auth-service' };
    // The server's first start registered its signing key in the installation's set (issue 13 item 5).
    const expect: [string, string][] = [['signing_key.added', 'forge-server']];
    const ok = async (status: number, res: Promise<{ status: number; text: string }>) =>
      assert.equal((await res).status, status, (await res).text);

    await ok(201, forge.api('POST', '/releases', releaseBody({}, sha(1)), ci));
    expect.push(['release.created', 'ci@example.com']);
    await ok(200, forge.api('POST', '/releases', releaseBody({ trigger: { type: 'tag', tag: 'auth-service/v1.0.0' } }, sha(1)), ci));
    expect.push(['release.updated', 'ci@example.com']);
    await ok(201, forge.api('POST', '/releases', releaseBody({}, sha(2)), ci));
    expect.push(['release.created', 'ci@example.com']);

    await ok(201, forge.api('POST', '/deployments', { ...target, environment: 'staging', release: '1' }, dana));
    expect.push(['deployment.requested', 'dana@example.com'], ['deployment.active', 'dana@example.com']);
    await ok(201, forge.api('POST', '/deployments', { ...target, environment: 'staging', release: '2' }, dana));
    expect.push(
      ['deployment.requested', 'dana@example.com'],
      ['deployment.superseded', 'dana@example.com'],
      ['deployment.active', 'dana@example.com'],
    );

    await ok(403, forge.api('POST', '/deployments', { ...target, environment: 'production', release: '1' }, dana)); // no approval yet
    expect.push(['deployment.policy_denied', 'dana@example.com']);
    await ok(403, forge.api('POST', '/approvals', { ...target, release: '1', environment: 'production', justification: 'x' }, dana));
    expect.push(['auth.permission_denied', 'dana@example.com']);

    const approval = await forge.api(
      'POST',
      '/approvals',
      { ...target, release: '1', environment: 'production', justification: 'CAB-42' },
      alex,
    );
    assert.equal(approval.status, 201, approval.text);
    expect.push(['approval.granted', 'alex@example.com']);
    await ok(200, forge.api('POST', `/approvals/${approval.body.id}/revoke`, undefined, alex));
    expect.push(['approval.revoked', 'alex@example.com']);

    await ok(201, forge.api('POST', '/pins', { ...target, environment: 'staging', reason: 'freeze' }, ops));
    expect.push(['pin.set', 'olga@example.com']);
    await ok(200, forge.api('DELETE', '/pins/staging/acme/mono/auth-service', undefined, ops));
    expect.push(['pin.removed', 'olga@example.com']);

    const log = (await forge.api('GET', '/audit?limit=200', undefined, ops)).body.items.reverse();
    // Auto-deploys to dev (its policy has auto_deploy) run beside this, as forge:auto-deploy: audited too, counted apart.
    const seen = log
      .map((e: { action: string; actor: string }) => [e.action, e.actor])
      .filter(([, actor]: string[]) => actor !== 'forge:auto-deploy');
    assert.ok(
      seen.length < log.length &&
        log.some((e: { action: string; actor: string }) => e.actor === 'forge:auto-deploy' && e.action === 'deployment.requested'),
    );
    const sorted = (xs: [string, string][]) => [...xs].sort((a, b) => a.join().localeCompare(b.join()));
    assert.deepEqual(sorted(seen), sorted(expect));
    for (const [i, e] of log.entries()) {
      assert.ok(e.subject && e.at && e.hash, JSON.stringify(e));
      assert.equal(e.prev_hash, i === 0 ? '0'.repeat(64) : log[i - 1].hash);
    }
    const refused = log.find((e: { action: string }) => e.action === 'deployment.policy_denied');
    assert.equal(refused.subject, 'production/acme/mono/auth-service');
    assert.ok(
      refused.details.checks.some((c: { name: string; ok: boolean }) => c.name === 'approvals' && !c.ok),
      JSON.stringify(refused.details),
    );
    const superseded = log.find((e: { action: string }) => e.action === 'deployment.superseded');
    assert.equal(
      superseded.subject,
      log.find((e: { action: string }) => e.action === 'deployment.active').subject,
      'the first active deployment is the one superseded',
    );
    const granted = log.find((e: { action: string }) => e.action === 'approval.granted');
    assert.equal(granted.details.justification, 'CAB-42');
    const check = (await forge.api('GET', '/audit/verify', undefined, ops)).body;
    assert.equal(check.ok, true);
    assert.ok(check.checked >= log.length);
  });
});
