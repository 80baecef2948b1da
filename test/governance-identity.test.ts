/**
 * Issue #13 items 2 and 7 against a real OIDC provider and embedded tokens.
 *   2. One person is one approver: identities are the provider's issuer + sub; the email, which
 *      the provider lets users change, is shown only.
 *   7. Service accounts are bound to the repositories they may release (embedded tokens with
 *      --repository, OIDC clients through client_repositories); a repository's tagging strategy
 *      in the platform config wins over the request's.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Forge, releaseBody, runCli, startForge, tempDir } from './support/forge.js';
import { type Idp, startIdp } from './support/oidc.js';

const ROLE_MAP = {
  groups: { approvers: ['approver:production', 'deployer:production'] },
  clients: { 'forge-ci': ['service-account'], 'other-ci': ['service-account'] },
  client_repositories: { 'forge-ci': ['acme/web'] },
  default_roles: ['developer'],
};

describe('one person, one approval (OIDC)', () => {
  let idp: Idp;
  let forge: Forge;
  const emails: Record<string, string> = {};
  before(async () => {
    idp = await startIdp({ accounts: { mallory: { groups: ['approvers'] }, bob: { groups: ['approvers'] } }, emails });
    const dir = tempDir();
    const config = join(dir, 'forge.yaml');
    writeFileSync(
      config,
      [
        'environments:',
        '  production:',
        '    promotion_policy:',
        '      allowed_triggers: [tag, manual]',
        '      allowed_branches: [main]',
        '      requires_approval: true',
        '      approvals: { required: 2, expires_after: 2h }',
        'repositories:',
        '  acme/web:',
        '    tagging_strategy: tag-all',
        '',
      ].join('\n'),
    );
    forge = await startForge({
      env: {
        FORGE_CONFIG: config,
        FORGE_OIDC_ISSUER: idp.issuer,
        FORGE_OIDC_AUDIENCE: 'https://forge.example/api',
        FORGE_OIDC_ROLE_MAP: JSON.stringify(ROLE_MAP),
      },
    });
  });
  after(async () => {
    await forge.stop();
    await idp.stop();
  });

  test('the repro: one sub with two emails approves twice and counts once; with a third email it is still the same person deploying', async () => {
    const ci = await idp.clientToken();
    const created = await forge.api(
      'POST',
      '/releases',
      releaseBody({ repository: 'acme/web', project: 'web', trigger: { type: 'manual' } }, 'a'.repeat(40)),
      ci,
    );
    assert.equal(created.status, 201, created.text);
    const approve = (token: string) =>
      forge.api(
        'POST',
        '/approvals',
        { repository: 'acme/web', project: 'web', release: '1', environment: 'production', justification: 'looks good' },
        token,
      );
    emails.mallory = 'mallory@example.com';
    const first = await idp.userToken('mallory');
    assert.equal((await approve(first)).status, 201);
    emails.mallory = 'm.alias@example.com';
    const second = await idp.userToken('mallory');
    const me = (await forge.api('GET', '/whoami', undefined, second)).body;
    assert.equal(me.subject, `${idp.issuer}#mallory`);
    assert.equal(me.display, 'm.alias@example.com');
    await approve(second);
    const target = { repository: 'acme/web', project: 'web', environment: 'production', release: '1' };
    const dry = (await forge.api('POST', '/policy-checks', target, second)).body;
    const approvals = dry.checks.find((c: { name: string }) => c.name === 'approvals');
    assert.equal(approvals.ok, false, JSON.stringify(approvals));
    assert.equal(approvals.actual, 0, 'self-approval is off: the asker is that same person, whose approvals do not count for them');

    // Bob approves: 2 approval records, but the distinct approvers are mallory and bob.
    emails.bob = 'bob@example.com';
    const bob = await idp.userToken('bob');
    assert.equal((await approve(bob)).status, 201);
    const byBob = (await forge.api('POST', '/policy-checks', target, bob)).body.checks.find(
      (c: { name: string }) => c.name === 'approvals',
    );
    assert.equal(byBob.ok, false, 'bob cannot count himself; mallory counts once');
    emails.mallory = 'third@example.com';
    const third = await idp.userToken('mallory');
    const deploy = await forge.api('POST', '/deployments', target, third);
    assert.equal(deploy.status, 403, deploy.text);
    assert.equal(deploy.body.error.code, 'policy_denied');
    assert.match(deploy.body.error.message, /approvals/);
  });

  test('a client bound to acme/web may release only acme/web; an unbound client any; the platform config picks the tagging strategy', async () => {
    const bound = await idp.clientToken();
    const other = await idp.clientToken({ clientId: 'other-ci', secret: 'other-secret-0123456789-abcdefghijklm' });
    const denied = await forge.api('POST', '/releases', releaseBody({ repository: 'acme/api', project: 'api' }, 'b'.repeat(40)), bound);
    assert.equal(denied.status, 403, denied.text);
    assert.equal(denied.body.error.code, 'permission_denied');
    assert.match(denied.body.error.message, /bound to acme\/web; it may not release acme\/api/);
    const any = await forge.api('POST', '/releases', releaseBody({ repository: 'acme/api', project: 'api' }, 'b'.repeat(40)), other);
    assert.equal(any.status, 201, any.text);
    // acme/web is tag-all by the platform config, whatever the request says: the plain tag is an alias.
    const tagged = await forge.api(
      'POST',
      '/releases',
      releaseBody({ repository: 'acme/web', project: 'web', tags: ['v7'], tagging_strategy: 'monorepo' }, 'c'.repeat(40)),
      bound,
    );
    assert.equal(tagged.status, 201, tagged.text);
    assert.ok(
      tagged.body.aliases.some((a: { alias: string }) => a.alias === 'v7'),
      JSON.stringify(tagged.body.aliases),
    );
  });
});

describe('embedded service-account tokens bound to repositories (two repositories, two service accounts)', () => {
  let forge: Forge;
  before(async () => {
    forge = await startForge();
  });
  after(() => forge.stop());

  const cliToken = async (...args: string[]) => {
    const r = await runCli(['token', 'create', '--data-dir', forge.dataDir, '-o', 'json', ...args]);
    return r;
  };

  test('forge token create --repository (repeatable) binds; each account releases only its own', async () => {
    const webRun = await cliToken(
      '--subject',
      'ci-web',
      '--role',
      'service-account',
      '--repository',
      'acme/web',
      '--repository',
      'Acme/Site',
    );
    assert.equal(webRun.code, 0, webRun.stderr);
    const web = JSON.parse(webRun.stdout);
    assert.deepEqual(web.repositories, ['acme/site', 'acme/web']);
    const apiRun = await cliToken('--subject', 'ci-api', '--role', 'service-account', '--repository', 'acme/api');
    const api = JSON.parse(apiRun.stdout);
    const release = (token: string, repository: string, n: number) =>
      forge.api('POST', '/releases', releaseBody({ repository, project: 'svc' }, String(n).repeat(40)), token);
    assert.equal((await release(web.token, 'acme/web', 1)).status, 201);
    assert.equal((await release(web.token, 'acme/site', 2)).status, 201);
    assert.equal((await release(api.token, 'acme/api', 3)).status, 201);
    for (const [token, repo] of [
      [web.token, 'acme/api'],
      [api.token, 'acme/web'],
      [api.token, 'ACME/WEB'],
    ]) {
      const r = await release(token, repo, 4);
      assert.equal(r.status, 403, `${repo}: ${r.text}`);
      assert.equal(r.body.error.code, 'permission_denied');
    }
    assert.deepEqual((await forge.api('GET', '/whoami', undefined, api.token)).body, {
      subject: 'ci-api',
      roles: ['service-account'],
      repositories: ['acme/api'],
    });
    // Unbound: any repository (a single-repository installation).
    const unbound = await forge.token(['service-account'], 'ci-any');
    assert.equal((await release(unbound, 'acme/other', 5)).status, 201);
  });

  test('--repository needs the service-account role and a well-formed owner/name', async () => {
    const noRole = await cliToken('--subject', 'x', '--role', 'developer', '--repository', 'acme/web');
    assert.notEqual(noRole.code, 0);
    assert.match(noRole.stderr, /needs --role service-account/);
    const bad = await cliToken('--subject', 'x', '--role', 'service-account', '--repository', 'acme');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--repository "acme"/);
  });
});
