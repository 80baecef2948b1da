/**
 * Issue #13 items 2 and 7 against a real OIDC provider and embedded tokens.
 *   2. One person is one approver: identities are the provider's issuer + sub; the email, which
 *      the provider lets users change, is shown only.
 *   7. Service accounts are bound to the repositories they may release (embedded tokens with
 *      --repository, OIDC clients through client_repositories); a repository's tagging strategy
 *      in the platform config wins over the request's.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { insertApproval } from '../src/store/approvals.js';
import { appendAudit } from '../src/store/audit.js';
import { type Db, openPostgres } from '../src/store/db.js';
import { freshPostgres } from './support/db.js';
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

describe('upgrade: approvals recorded under the OIDC email before the switch to issuer+sub', () => {
  // What the version before issue #13 item 2 wrote, e.g. a replica still running it during a
  // rolling upgrade: the approval and its audit entry under the person's email, with no display.
  let idp: Idp;
  let forge: Forge;
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  let db: Db;
  const emails: Record<string, string> = {};
  before(async () => {
    idp = await startIdp({
      accounts: { mallory: { groups: ['approvers'] }, bob: { groups: ['approvers'] }, dora: { groups: ['deployers'] } },
      emails,
    });
    const config = join(tempDir(), 'forge.yaml');
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
        '',
      ].join('\n'),
    );
    pg = await freshPostgres();
    forge = await startForge({
      databaseUrl: pg.url,
      env: {
        FORGE_CONFIG: config,
        FORGE_OIDC_ISSUER: idp.issuer,
        FORGE_OIDC_AUDIENCE: 'https://forge.example/api',
        FORGE_OIDC_ROLE_MAP: JSON.stringify({ ...ROLE_MAP, groups: { ...ROLE_MAP.groups, deployers: ['deployer:production'] } }),
      },
    });
    db = await openPostgres(pg.url);
  });
  after(async () => {
    await db.close();
    await forge.stop();
    await idp.stop();
    await pg.drop();
  });

  /** Records an approval as the version before the switch did: approver = the email, audited under it. */
  async function oldVersionApproves(email: string, releaseNumber: number) {
    const [r] = await db.query<{ id: string; oci_digest: string; canonical_id: string }>(
      `select id, oci_digest, repository || '/' || project || '/' || commit_sha as canonical_id from releases
       where repository = 'acme/web' and project = 'web' and release_number = $1`,
      [releaseNumber],
    );
    const id = randomUUID();
    await db.transaction(async (tx) => {
      await insertApproval(tx, {
        id,
        release_id: r.id,
        release_digest: r.oci_digest,
        repository: 'acme/web',
        project: 'web',
        environment: 'production',
        approver: email,
        justification: 'approved before the upgrade',
        expires_after_ms: 3_600_000,
      });
      await appendAudit(tx, {
        actor: email,
        action: 'approval.granted',
        subject: id,
        details: { release: r.canonical_id, digest: r.oci_digest },
      });
    });
    return id;
  }

  test('an old email approval and a new issuer+sub approval by the same person count once; the audit chain is kept as written', async () => {
    const ci = await idp.clientToken();
    for (const n of [1, 2]) {
      const created = await forge.api(
        'POST',
        '/releases',
        releaseBody({ repository: 'acme/web', project: 'web', trigger: { type: 'manual' } }, String(n).repeat(40)),
        ci,
      );
      assert.equal(created.status, 201, created.text);
    }
    const approve = (token: string, release: string) =>
      forge.api(
        'POST',
        '/approvals',
        { repository: 'acme/web', project: 'web', release, environment: 'production', justification: 'ok' },
        token,
      );
    emails.mallory = 'mallory@example.com';
    emails.bob = 'bob@example.com';
    const mallory = await idp.userToken('mallory');
    const dora = await idp.userToken('dora');
    const target = { repository: 'acme/web', project: 'web', environment: 'production', release: '1' };
    const approvalsCheck = async () =>
      (await forge.api('POST', '/policy-checks', target, dora)).body.checks.find((c: { name: string }) => c.name === 'approvals');

    // Release 1: mallory approves on the upgraded replica (issuer+sub, email shown), and the old replica records her too.
    assert.equal((await approve(mallory, '1')).status, 201);
    const legacyId = await oldVersionApproves('mallory@example.com', 1);
    const before = await forge.api('GET', '/audit?limit=100', undefined, await idp.userToken('bob'));
    let check = await approvalsCheck();
    assert.equal(check.actual, 1, `two records of one person are one approver: ${JSON.stringify(check)}`);
    assert.equal(check.ok, false);
    // A second person makes two.
    const bob = await idp.userToken('bob');
    assert.equal((await approve(bob, '1')).status, 201);
    check = await approvalsCheck();
    assert.equal(check.actual, 2, JSON.stringify(check));
    assert.equal(check.ok, true);

    // Release 2: only the old email approval; the same person approving again now is told she already did.
    const legacy2 = await oldVersionApproves('mallory@example.com', 2);
    const again = await approve(mallory, '2');
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.error.details.approval_id, legacy2);
    // Another email's old approval is another person's, and still counts.
    await oldVersionApproves('carol@example.com', 2);
    const release2 = (await forge.api('POST', '/policy-checks', { ...target, release: '2' }, dora)).body.checks.find(
      (c: { name: string }) => c.name === 'approvals',
    );
    assert.equal(release2.actual, 2, 'mallory (by email) and carol (by email): two people');

    // Nothing recorded was rewritten: the old entries keep their actor, and the chain verifies.
    const list = (await forge.api('GET', `/approvals?environment=production`, undefined, bob)).body.items as {
      id: string;
      approver: string;
    }[];
    assert.equal(list.find((a) => a.id === legacyId)?.approver, 'mallory@example.com');
    const after = await forge.api('GET', '/audit?limit=100', undefined, bob);
    const byId = new Map((after.body.items as { seq: number; hash: string; actor: string }[]).map((e) => [e.seq, e]));
    for (const e of before.body.items as { seq: number; hash: string; actor: string }[]) assert.deepEqual(byId.get(e.seq), e);
    assert.ok(
      (after.body.items as { actor: string; subject: string }[]).some((e) => e.subject === legacyId && e.actor === 'mallory@example.com'),
    );
    const verify = await forge.api('GET', '/audit/verify', undefined, bob);
    assert.equal(verify.status, 200, verify.text);
    assert.equal(verify.body.ok, true, verify.text);
  });
});
