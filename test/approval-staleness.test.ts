/**
 * Issue #13 review F5: an approval does not survive a change of where the commit is. A later
 * pipeline run may replace a release's `commit.branches` (the commit was merged since); an
 * approval given while the release showed other branches is then stale: it no longer counts,
 * the dry run and the deployment say why, and the approver may approve again.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Forge, releaseBody, startForge, tempDir } from './support/forge.js';

const SHA = 'ab'.repeat(20);
let forge: Forge;
let ci: string;
let bob: string;
let alice: string;

before(async () => {
  const config = join(tempDir(), 'forge.yaml');
  writeFileSync(
    config,
    [
      'environments:',
      '  production:',
      '    promotion_policy:',
      '      allowed_triggers: [tag, manual]',
      '      allowed_branches: ["*"]',
      '      requires_approval: true',
      '      approvals: { required: 1, expires_after: 2h }',
      '',
    ].join('\n'),
  );
  forge = await startForge({ env: { FORGE_CONFIG: config } });
  ci = await forge.token(['service-account'], 'ci@example.com');
  bob = await forge.token(['approver:production'], 'bob@example.com');
  alice = await forge.token(['deployer:production'], 'alice@example.com');
});
after(() => forge?.stop());

const post = (branches: string[]) =>
  forge.api(
    'POST',
    '/releases',
    releaseBody(
      {
        project: 'web',
        trigger: { type: 'tag', tag: 'web/v2' },
        commit: { sha: SHA, author: 'A <a@example.com>', message: 'm', committed_at: '2026-01-02T03:04:05Z', branches },
      },
      SHA,
    ),
    ci,
  );
const target = { repository: 'acme/mono', project: 'web', release: 'v2', environment: 'production' };
const dryRun = () => forge.api('POST', '/policy-checks', target, alice);

test('the repro: approved while on [feature], re-posted with [main]: the approval is stale and the dry run refuses, saying why', async () => {
  assert.equal((await post(['feature'])).status, 201);
  const approved = await forge.api('POST', '/approvals', { ...target, justification: 'CAB-1' }, bob);
  assert.equal(approved.status, 201, approved.text);
  assert.deepEqual(approved.body.context.branches, ['feature'], 'the approval keeps what it was given for');
  const before = await dryRun();
  assert.equal(before.status, 200, before.text);
  assert.equal(before.body.allowed, true, JSON.stringify(before.body.checks));

  // The service account re-posts the same commit with another list.
  const moved = await post(['main']);
  assert.equal(moved.status, 200, moved.text);
  assert.deepEqual(moved.body.source.branches, ['main']);

  const after = await dryRun();
  assert.equal(after.body.allowed, false, JSON.stringify(after.body.checks));
  const check = after.body.checks.find((c: { name: string }) => c.name === 'approvals');
  assert.equal(check.ok, false);
  assert.match(check.reason, /1 stale: given when the commit was shown on other branches than it is now; approve again/);
  const deploy = await forge.api('POST', '/deployments', target, alice);
  assert.equal(deploy.status, 403, deploy.text);
  assert.equal(deploy.body.error.code, 'policy_denied');

  // The approver sees the new context and approves again (the stale approval does not block it).
  const again = await forge.api('POST', '/approvals', { ...target, justification: 'CAB-2, now on main' }, bob);
  assert.equal(again.status, 201, again.text);
  assert.deepEqual(again.body.context.branches, ['main']);
  assert.equal((await dryRun()).body.allowed, true);

  // The same list again (any order) changes nothing: the fresh approval still counts.
  assert.equal((await post(['main'])).status, 200);
  assert.equal((await dryRun()).body.allowed, true);
});
