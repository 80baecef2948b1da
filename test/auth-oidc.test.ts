/**
 * Production identity (issue 6, acceptance 1): bearer JWTs from a real OIDC provider started
 * here (oidc-provider) are verified against its JWKS — issuer, audience, algorithms, clock
 * skew — and their claims mapped to roles by configuration; embedded tokens keep working.
 */

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { parseRoleMapping } from '../src/core/role-mapping.js';
import { type OidcSettings, oidcAuthenticator, oidcSettingsFromEnv } from '../src/server/oidc.js';
import { loadSettings } from '../src/server/settings.js';
import { type Forge, releaseBody, startForge } from './support/forge.js';
import { FORGE_AUDIENCE, type Idp, startIdp } from './support/oidc.js';

const ROLE_MAP = {
  groups: { 'platform-team': ['operator'], 'staging-deployers': ['deployer:staging', 'approver:staging'] },
  clients: { 'forge-ci': ['service-account'] },
  default_roles: ['developer'],
};

const settingsFor = (idp: Idp, over: Partial<OidcSettings> = {}): OidcSettings => ({
  issuer: idp.issuer,
  audience: [FORGE_AUDIENCE],
  algorithms: ['RS256'],
  clockToleranceSeconds: 0,
  mapping: parseRoleMapping(JSON.stringify(ROLE_MAP)),
  ...over,
});

describe('OIDC bearer tokens against a real provider', () => {
  let idp: Idp;
  let forge: Forge;
  before(async () => {
    idp = await startIdp({ accounts: { alice: { groups: ['platform-team'] }, bob: { groups: ['staging-deployers', 'unmapped'] } } });
    forge = await startForge({
      env: {
        FORGE_OIDC_ISSUER: idp.issuer,
        FORGE_OIDC_AUDIENCE: `other-api,${FORGE_AUDIENCE}`,
        FORGE_OIDC_ROLE_MAP: JSON.stringify(ROLE_MAP),
      },
    });
  });
  after(async () => {
    await forge.stop();
    await idp.stop();
  });

  test('CI: a client-credentials token is the service account; it registers a release recorded under its client id', async () => {
    const token = await idp.clientToken();
    assert.equal(decodeJwt(token).iss, idp.issuer);
    const me = await forge.api('GET', '/whoami', undefined, token);
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body, { subject: 'client:forge-ci', roles: ['service-account'] });
    const created = await forge.api('POST', '/releases', releaseBody(), token);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.created_by, 'client:forge-ci');
  });

  test('a client without a mapping has no roles: authenticated, but refused', async () => {
    const token = await idp.clientToken({ clientId: 'other-ci', secret: 'other-secret-0123456789-abcdefghijklm' });
    assert.deepEqual((await forge.api('GET', '/whoami', undefined, token)).body, { subject: 'client:other-ci', roles: [] });
    const refused = await forge.api('GET', '/releases/acme/mono/auth-service', undefined, token);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'permission_denied');
  });

  test('people: groups map to roles, everyone gets the default role, issuer+sub is the actor and the email its display name', async () => {
    const alice = await idp.userToken('alice');
    assert.deepEqual((await forge.api('GET', '/whoami', undefined, alice)).body, {
      subject: `${idp.issuer}#alice`,
      display: 'alice@example.com',
      roles: ['developer', 'operator'],
    });
    const bob = await idp.userToken('bob');
    assert.deepEqual((await forge.api('GET', '/whoami', undefined, bob)).body, {
      subject: `${idp.issuer}#bob`,
      display: 'bob@example.com',
      roles: ['approver:staging', 'deployer:staging', 'developer'],
    });
    const carol = await idp.userToken('carol');
    assert.deepEqual((await forge.api('GET', '/whoami', undefined, carol)).body, {
      subject: `${idp.issuer}#carol`,
      display: 'carol@example.com',
      roles: ['developer'],
    });
    assert.equal((await forge.api('GET', '/releases/acme/mono/auth-service', undefined, carol)).status, 200);
    // A person who logged in is never the pipeline, even with an operator group.
    assert.equal((await forge.api('POST', '/releases', releaseBody({ project: 'people' }), alice)).status, 403);
  });

  test('a token for another audience is refused with 401 naming the audience expected', async () => {
    const token = await idp.clientToken({ resource: 'https://other.example/api' });
    const res = await forge.api('GET', '/whoami', undefined, token);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'authentication_required');
    assert.match(res.body.error.message, /aud claim is not accepted.*expected other-api or https:\/\/forge\.example\/api/);
    assert.ok(!res.text.includes(token), 'the token is not echoed');
  });

  test('embedded tokens keep working beside the issuer; a forged or garbage token is 401', async () => {
    const embedded = await forge.token(['developer'], 'dev@example.com');
    assert.deepEqual((await forge.api('GET', '/whoami', undefined, embedded)).body, { subject: 'dev@example.com', roles: ['developer'] });
    const token = await idp.clientToken();
    const [h, , s] = token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...decodeJwt(token), client_id: 'forge-ci', sub: 'forge-ci', scope: 'forge', extra: 1 }),
    ).toString('base64url');
    const forged = await forge.api('GET', '/whoami', undefined, `${h}.${forgedPayload}.${s}`);
    assert.equal(forged.status, 401);
    assert.match(forged.body.error.message, /not signed by a key of/);
    assert.equal((await forge.api('GET', '/whoami', undefined, 'not-a-jwt')).status, 401);
    assert.equal((await forge.api('GET', '/whoami')).status, 401);
  });

  test('issuer and signing key: a token of another issuer, or signed by another key, is refused', async () => {
    const other = await startIdp();
    try {
      const token = await other.clientToken();
      // Signed by the right keys, but the issuer configured is another (here: a trailing slash).
      await assert.rejects(
        oidcAuthenticator(settingsFor(other, { issuer: `${other.issuer}/`, jwksUri: `${other.issuer}/jwks` })).authenticate(token),
        /iss claim is not accepted.*expected http:\/\/127\.0\.0\.1:\d+\/$/,
      );
      // Another issuer's token against this issuer's keys: the signature does not verify.
      await assert.rejects(oidcAuthenticator(settingsFor(idp)).authenticate(token), /not signed by a key of/);
      await assert.rejects(
        oidcAuthenticator(settingsFor(other, { jwksUri: `${idp.issuer}/jwks` })).authenticate(token),
        /not signed by a key of/,
      );
      assert.equal((await oidcAuthenticator(settingsFor(other)).authenticate(token)).subject, 'client:forge-ci');
    } finally {
      await other.stop();
    }
  });

  test('algorithms: a token signed with an algorithm not configured is refused', async () => {
    const token = await idp.clientToken();
    await assert.rejects(
      oidcAuthenticator(settingsFor(idp, { algorithms: ['ES256'] })).authenticate(token),
      /algorithm this server does not accept: expected ES256/,
    );
    const ec = await startIdp({ alg: 'ES256' });
    try {
      const ecToken = await ec.clientToken();
      assert.equal((await oidcAuthenticator(settingsFor(ec, { algorithms: ['ES256'] })).authenticate(ecToken)).subject, 'client:forge-ci');
      await assert.rejects(oidcAuthenticator(settingsFor(ec)).authenticate(ecToken), /algorithm/);
    } finally {
      await ec.stop();
    }
  });

  test('clock skew: an expired token is refused without tolerance and accepted within it', async () => {
    const short = await startIdp({ clientTokenTtl: 1 });
    try {
      const token = await short.clientToken();
      const exp = decodeJwt(token).exp! * 1000;
      while (Date.now() <= exp + 1000) await sleep(200); // until the token has expired
      await assert.rejects(
        oidcAuthenticator(settingsFor(short, { clockToleranceSeconds: 0 })).authenticate(token),
        /the token has expired: log in again/,
      );
      assert.equal(
        (await oidcAuthenticator(settingsFor(short, { clockToleranceSeconds: 300 })).authenticate(token)).subject,
        'client:forge-ci',
      );
    } finally {
      await short.stop();
    }
  });

  test('an unreachable issuer is a 401 saying the keys could not be fetched, and is retried later', async (t) => {
    // The key set is served on a port where nothing listens yet; later the issuer's keys appear there.
    const keys = createServer(async (_req, res) => {
      const jwks = await fetch(`${idp.issuer}/jwks`);
      res.writeHead(jwks.status, { 'content-type': 'application/json' }).end(await jwks.text());
    });
    await new Promise<void>((ok) => keys.listen(0, '127.0.0.1', ok));
    const port = (keys.address() as AddressInfo).port;
    await new Promise((ok) => keys.close(ok));
    const flaky = await startForge({
      env: {
        FORGE_OIDC_ISSUER: idp.issuer,
        FORGE_OIDC_AUDIENCE: FORGE_AUDIENCE,
        FORGE_OIDC_ROLE_MAP: JSON.stringify(ROLE_MAP),
        FORGE_OIDC_JWKS_URI: `http://127.0.0.1:${port}/jwks`,
      },
    });
    t.after(async () => {
      await flaky.stop();
      keys.closeAllConnections();
      await new Promise((ok) => keys.close(ok));
    });
    const token = await idp.clientToken();

    const refused = await flaky.api('GET', '/whoami', undefined, token);
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.body.error.code, 'authentication_required');
    assert.match(refused.body.error.message, /keys of http:\/\/127\.0\.0\.1:\d+ could not be fetched/);

    // The keys are reachable now: the same server fetches them on the next request instead of keeping the failure.
    await new Promise<void>((ok) => keys.listen(port, '127.0.0.1', ok));
    const retried = await flaky.api('GET', '/whoami', undefined, token);
    assert.equal(retried.status, 200, retried.text);
    assert.deepEqual(retried.body, { subject: 'client:forge-ci', roles: ['service-account'] });
  });
});

describe('OIDC configuration', () => {
  test('settings from the environment; an issuer without an audience is refused', () => {
    assert.equal(oidcSettingsFromEnv({}), undefined);
    assert.throws(() => loadSettings({}, { FORGE_OIDC_ISSUER: 'https://idp.example' }), /FORGE_OIDC_AUDIENCE is not set/);
    const s = oidcSettingsFromEnv({
      FORGE_OIDC_ISSUER: 'https://idp.example',
      FORGE_OIDC_AUDIENCE: 'forge',
      FORGE_OIDC_CLOCK_SKEW: '2m',
      FORGE_OIDC_ALGORITHMS: 'ES256, RS256',
    })!;
    assert.deepEqual([s.audience, s.algorithms, s.clockToleranceSeconds], [['forge'], ['ES256', 'RS256'], 120]);
  });
});
