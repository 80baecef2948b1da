/**
 * Tokens and sessions (issue 19 item 5): embedded tokens carry an id and an expiry within the
 * configured maximum, name a checked subject, and can be revoked (in force on every replica
 * sharing the database within REFRESH_MS); tokens from before keep working until the operator's
 * date, with a warning; event streams end with their token and are capped per subject; and
 * authentication is decided on the matched route whatever the spelling of the path.
 */

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { loadSettings } from '../src/server/settings.js';
import { startServer } from '../src/server/start.js';
import { loadOrCreateTokenKey, signToken, subjectProblem, tokenId, tokenKeyPath } from '../src/server/tokens.js';
import { REFRESH_MS, revocationList, revokeToken } from '../src/services/token-revocations.js';
import { freshPostgres, testDb } from './support/db.js';
import { eventually } from './support/eventually.js';
import { type Forge, runCli, startForge, tempDir } from './support/forge.js';

/** A token signed with `key` as the caller wishes: the claims an attacker holding an old token, or the key, could present. */
async function craft(key: Uint8Array, claims: { sub: string; jti?: string; iat?: number; exp?: number; roles?: string[] }) {
  const jwt = new SignJWT({ roles: claims.roles ?? ['operator'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('forge-embedded')
    .setSubject(claims.sub);
  if (claims.jti) jwt.setJti(claims.jti);
  if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  return jwt.sign(key);
}

const now = () => Math.floor(Date.now() / 1000);

/** GET with the path sent exactly as written (fetch would normalise some of it). */
function rawGet(base: string, path: string, token?: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((ok, fail) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: 'GET', headers: token ? { authorization: `Bearer ${token}` } : {} },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

/** Reads an event stream until it ends, with the text it sent. */
async function streamText(res: Response): Promise<string> {
  return await res.text();
}

describe('creating tokens', () => {
  test('a lifetime longer than FORGE_TOKEN_MAX_LIFETIME (default 90d) is refused with a clear message, and no key file is made for it', async () => {
    const key = new Uint8Array(32);
    await assert.rejects(
      signToken(key, 'ci@example.com', ['developer'], 100 * 365 * 86400),
      /--ttl 36500d is longer than .* 90d \(FORGE_TOKEN_MAX_LIFETIME\)/,
    );
    await assert.rejects(
      signToken(key, 'ci@example.com', ['developer'], 2 * 3600, { maxLifetimeSeconds: 3600 }),
      /--ttl 2h is longer than .* 1h/,
    );
    const ok = await signToken(key, 'ci@example.com', ['developer'], 3600, { maxLifetimeSeconds: 3600 });
    assert.match(ok.id, /^[0-9a-f-]{36}$/);
    assert.equal(tokenId(ok.token), ok.id);

    const dataDir = tempDir();
    try {
      const long = await runCli(['token', 'create', '--subject', 'ci', '--role', 'developer', '--ttl', '36500d', '--data-dir', dataDir]);
      assert.notEqual(long.code, 0);
      assert.match(
        long.stderr,
        /--ttl 36500d is longer than the longest token lifetime this installation allows, 90d \(FORGE_TOKEN_MAX_LIFETIME\)/,
      );
      assert.equal(existsSync(tokenKeyPath(dataDir)), false, 'a refused token creates no key file');
      const capped = await runCli(['token', 'create', '--subject', 'ci', '--role', 'developer', '--ttl', '2h', '--data-dir', dataDir], {
        env: { FORGE_TOKEN_MAX_LIFETIME: '1h' },
      });
      assert.notEqual(capped.code, 0);
      assert.match(capped.stderr, /longer than .* 1h/);
      const good = await runCli(
        ['token', 'create', '--subject', 'ci', '--role', 'developer', '--ttl', '1h', '--data-dir', dataDir, '-o', 'json'],
        {
          env: { FORGE_TOKEN_MAX_LIFETIME: '1h' },
        },
      );
      assert.equal(good.code, 0, good.stderr);
      const printed = JSON.parse(good.stdout);
      assert.equal(tokenId(printed.token), printed.id);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('subjects: no control characters or line breaks, no invisible or look-alike characters, no reserved forge: prefix, at most 200 characters', async () => {
    const bad = [
      'ci\nApproved by: ceo@example.com',
      'ci\r',
      'a\u0000b',
      'x\u2028y',
      'evil\u202etxt',
      'forge:auto-deploy',
      'FORGE:anything',
      ' ',
      'x'.repeat(201),
      // look-alikes of ci@example.com and of the reserved prefix (review of issue #19)
      'ci\u200b@example.com',
      'c\u200di@example.com',
      '\ufeffci@example.com',
      'ci\u00ad@example.com',
      '\uff43\uff49@example.com',
      'ci\u00a0@example.com',
      '\uff46orge:auto-deploy',
      'Zoe\u0308 Mu\u0308ller',
      ' ci',
      'ci ',
      'ci\t',
    ];
    for (const subject of bad) {
      assert.ok(subjectProblem(subject), JSON.stringify(subject));
      await assert.rejects(signToken(new Uint8Array(32), subject, ['developer'], 60), /--subject/);
    }
    for (const subject of ['ci@example.com', 'deploy-bot', 'Zo\u00eb M\u00fcller', 'x'.repeat(200), 'team:forge', '山田@example.jp'])
      assert.equal(subjectProblem(subject), undefined);
    const dataDir = tempDir();
    try {
      for (const subject of ['forge:auto-deploy', 'a\nb']) {
        const r = await runCli(['token', 'create', '--subject', subject, '--role', 'operator', '--data-dir', dataDir]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /--subject/);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('verifying tokens', () => {
  let forge: Forge;
  let key: Uint8Array;
  before(async () => {
    forge = await startForge({ env: { FORGE_TOKEN_MAX_LIFETIME: '7d', FORGE_MAX_EVENT_STREAMS_PER_SUBJECT: '1' } });
    key = loadOrCreateTokenKey(tokenKeyPath(forge.dataDir));
  });
  after(() => forge.stop());

  const whoami = (token: string) => forge.api('GET', '/whoami', undefined, token);

  test('a token within the maximum is accepted; one beyond it, or without exp, is refused saying why', async () => {
    const t = now();
    assert.equal((await whoami(await craft(key, { sub: 'ok@example.com', jti: randomUUID(), iat: t, exp: t + 7 * 86400 }))).status, 200);
    const century = await whoami(await craft(key, { sub: 'old@example.com', jti: randomUUID(), iat: t, exp: t + 100 * 365 * 86400 }));
    assert.equal(century.status, 401);
    assert.match(century.body.error.message, /lives longer than this installation allows \(at most 7d, FORGE_TOKEN_MAX_LIFETIME\)/);
    const backdated = await whoami(await craft(key, { sub: 'old@example.com', jti: randomUUID(), iat: t - 100, exp: t + 30 * 86400 }));
    assert.equal(backdated.status, 401);
    const noExp = await whoami(await craft(key, { sub: 'forever@example.com', jti: randomUUID(), iat: t }));
    assert.equal(noExp.status, 401);
    assert.match(noExp.body.error.message, /bounded lifetime/);
  });

  test('a subject with a line break or the reserved forge: prefix is refused at verification too', async () => {
    const t = now();
    for (const sub of ['forge:auto-deploy', 'mallory\nApproved by: ceo', 'x'.repeat(300)]) {
      const res = await whoami(await craft(key, { sub, jti: randomUUID(), iat: t, exp: t + 600 }));
      assert.equal(res.status, 401, JSON.stringify(sub));
      assert.match(res.body.error.message, /the token's subject/);
    }
  });

  test('tokens from before token ids (no jti) keep working while FORGE_LEGACY_TOKENS_UNTIL is not set: an upgrade breaks no pipeline', async () => {
    const legacy = await craft(key, { sub: 'ci@example.com', iat: now(), exp: now() + 3600 });
    const res = await whoami(legacy);
    assert.equal(res.status, 200);
    assert.equal(res.body.subject, 'ci@example.com');
  });

  test('an event stream per subject at most FORGE_MAX_EVENT_STREAMS_PER_SUBJECT; another subject is served', async () => {
    const alice = await forge.token(['developer'], 'alice@example.com');
    const bob = await forge.token(['developer'], 'bob@example.com');
    const first = new AbortController();
    const a1 = await fetch(`${forge.url}/api/v1/events`, { headers: { authorization: `Bearer ${alice}` }, signal: first.signal });
    assert.equal(a1.status, 200);
    const a2 = await fetch(`${forge.url}/api/v1/events`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(a2.status, 429);
    const body = await a2.json();
    assert.equal(body.error.code, 'too_many_requests');
    assert.match(body.error.message, /alice@example.com already has 1 event streams open .*FORGE_MAX_EVENT_STREAMS_PER_SUBJECT/);
    const other = new AbortController();
    const b1 = await fetch(`${forge.url}/api/v1/events`, { headers: { authorization: `Bearer ${bob}` }, signal: other.signal });
    assert.equal(b1.status, 200);
    first.abort();
    other.abort();
  });

  test('authentication is decided on the matched route: percent-encoded, upper-case and doubled-slash spellings need a token', async () => {
    const good = await forge.token(['operator']);
    const paths = [
      '/%61pi/v1/whoami',
      '/%41PI/v1/whoami',
      '/API/v1/whoami',
      '/Api/V1/audit',
      '/V1/whoami',
      '//api/v1/whoami',
      '///v1/whoami',
      '/api//v1/whoami',
      '/api/v1//whoami',
      '/api%2Fv1/whoami',
      '/%2Fapi/v1/audit',
      '/api/v1/whoami/',
      '/api/v1/%77hoami',
    ];
    for (const path of paths) {
      const none = await rawGet(forge.url, path);
      assert.equal(none.status, 401, `${path}: ${none.body.slice(0, 120)}`);
      assert.equal(JSON.parse(none.body).error.code, 'authentication_required', path);
      const forged = await rawGet(forge.url, path, 'not-a-token');
      assert.equal(forged.status, 401, path);
    }
    // The ones the router maps to the API answer it with a good token.
    for (const path of ['/%61pi/v1/whoami', '/api/v1/%77hoami']) {
      const res = await rawGet(forge.url, path, good);
      assert.equal(res.status, 200, path);
      assert.equal(JSON.parse(res.body).subject, 'tester@example.com');
    }
  });
});

describe('tokens from before this change (FORGE_LEGACY_TOKENS_UNTIL)', () => {
  async function serve(env: Record<string, string>) {
    const dataDir = tempDir();
    const lines: string[] = [];
    const server = await startServer(loadSettings({ port: 0, dataDir }, { ...process.env, FORGE_LOG: 'off', ...env }), (l) =>
      lines.push(l),
    );
    const key = loadOrCreateTokenKey(tokenKeyPath(dataDir));
    return {
      lines,
      key,
      whoami: async (token: string) => {
        const res = await fetch(`${server.address}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
        return { status: res.status, body: await res.json() };
      },
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }

  test('before the date: accepted, with a warning at start and a rate-limited one in the log', async () => {
    const s = await serve({ FORGE_LEGACY_TOKENS_UNTIL: '2999-01-31' });
    try {
      assert.ok(s.lines.some((l) => /warning: tokens issued before .* accepted until 2999-01-31T00:00:00.000Z/.test(l)));
      // As the old `forge token create` signed them: no jti, a 100-year lifetime.
      const legacy = await craft(s.key, { sub: 'ci@example.com', iat: now(), exp: now() + 100 * 365 * 86400, roles: ['developer'] });
      const first = await s.whoami(legacy);
      assert.equal(first.status, 200);
      assert.equal(first.body.subject, 'ci@example.com');
      assert.equal((await s.whoami(legacy)).status, 200);
      const warnings = s.lines.filter((l) => l.includes('a token of "ci@example.com" issued before tokens had an id'));
      assert.equal(warnings.length, 1, 'one warning per subject a minute, not one per request');
      // A legacy token still needs a valid subject.
      const forged = await craft(s.key, { sub: 'forge:auto-deploy', iat: now(), exp: now() + 60 });
      assert.equal((await s.whoami(forged)).status, 401);
    } finally {
      await s.stop();
    }
  });

  test('after the date: refused, saying until when they were accepted', async () => {
    const s = await serve({ FORGE_LEGACY_TOKENS_UNTIL: '2020-01-01T00:00:00Z' });
    try {
      const legacy = await craft(s.key, { sub: 'ci@example.com', iat: now(), exp: now() + 3600 });
      const res = await s.whoami(legacy);
      assert.equal(res.status, 401);
      assert.match(res.body.error.message, /accepted until 2020-01-01T00:00:00.000Z \(FORGE_LEGACY_TOKENS_UNTIL\): create a new one/);
    } finally {
      await s.stop();
    }
  });

  test('settings: a bad date or lifetime stops the start naming the variable', () => {
    assert.throws(
      () => loadSettings({ dataDir: tempDir() }, { FORGE_LEGACY_TOKENS_UNTIL: 'next year' }),
      /FORGE_LEGACY_TOKENS_UNTIL is "next year"/,
    );
    assert.throws(
      () => loadSettings({ dataDir: tempDir() }, { FORGE_TOKEN_MAX_LIFETIME: 'forever' }),
      /FORGE_TOKEN_MAX_LIFETIME is "forever"/,
    );
    assert.equal(loadSettings({ dataDir: tempDir() }, {}).tokenMaxLifetimeSeconds, 90 * 86400);
  });
});

describe('revocation', () => {
  test(`a replica's list is at most REFRESH_MS (${REFRESH_MS} ms, under the 5 s promised) old`, async () => {
    assert.ok(REFRESH_MS <= 5000);
    const { db, cleanup } = await testDb('pglite');
    try {
      let clock = 1_000_000;
      const list = revocationList(db, REFRESH_MS, () => clock);
      assert.equal(await list.isRevoked('t-1'), false);
      // Another replica revokes it (through the database only).
      await revokeToken({ db }, 'olga@example.com', { token_id: 't-1' }, 3600);
      clock += REFRESH_MS - 1;
      assert.equal(await list.isRevoked('t-1'), false, 'the copy is still fresh enough');
      clock += 1;
      assert.equal(await list.isRevoked('t-1'), true, 're-read once REFRESH_MS has passed');
    } finally {
      await cleanup();
    }
  });

  describe('two replicas sharing PostgreSQL', () => {
    let pg: Awaited<ReturnType<typeof freshPostgres>>;
    let a: Forge;
    let b: Forge;
    let keyDir: string;
    before(async () => {
      pg = await freshPostgres();
      keyDir = tempDir();
      const tokenKeyFile = join(keyDir, 'token-key');
      a = await startForge({ databaseUrl: pg.url, tokenKeyFile });
      b = await startForge({ databaseUrl: pg.url, tokenKeyFile });
    });
    after(async () => {
      await a.stop();
      await b.stop();
      await pg.drop();
      rmSync(keyDir, { recursive: true, force: true });
    });

    test('forge token revoke on one replica: the other refuses the token, its open event stream ends, the audit log has it', async () => {
      const key = loadOrCreateTokenKey(join(keyDir, 'token-key'));
      const ops = (await signToken(key, 'olga@example.com', ['operator'], 3600)).token;
      const leaked = await signToken(key, 'ci@example.com', ['developer'], 3600);
      assert.equal((await b.api('GET', '/whoami', undefined, leaked.token)).status, 200);
      const stream = await fetch(`${b.url}/api/v1/events?access_token=${leaked.token}`);
      assert.equal(stream.status, 200);
      const ended = streamText(stream);

      // Only an operator may revoke.
      const denied = await a.api('POST', '/tokens/revocations', { token_id: leaked.id }, leaked.token);
      assert.equal(denied.status, 403);

      const cli = await runCli(['token', 'revoke', leaked.id, '--reason', 'leaked in a CI log', '-o', 'json'], {
        env: { FORGE_URL: a.url, FORGE_TOKEN: ops },
      });
      assert.equal(cli.code, 0, cli.stderr);
      const revoked = JSON.parse(cli.stdout);
      assert.equal(revoked.token_id, leaked.id);
      assert.equal(revoked.revoked_by, 'olga@example.com');

      // The replica that revoked it refuses it at once; the other within its refresh period.
      const onA = await a.api('GET', '/whoami', undefined, leaked.token);
      assert.equal(onA.status, 401);
      assert.match(onA.body.error.message, new RegExp(`the token ${leaked.id} has been revoked`));
      await eventually(
        'replica B to refuse the revoked token',
        async () => (await b.api('GET', '/whoami', undefined, leaked.token)).status === 401,
      );
      assert.match(await ended, /event: token-revoked\ndata: \{"reason":"the token .* has been revoked/);

      // Idempotent; a malformed id is a 400.
      const again = await b.api('POST', '/tokens/revocations', { token_id: leaked.id }, ops);
      assert.equal(again.status, 200);
      assert.equal(again.body.reason, 'leaked in a CI log');
      const bad = await b.api('POST', '/tokens/revocations', { token_id: 'a b' }, ops);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'validation_error');

      const audit = await a.api('GET', '/audit?limit=50', undefined, ops);
      const entries = (audit.body.items as { action: string; actor: string; subject: string; details: { reason?: string } }[]).filter(
        (e) => e.action === 'token.revoked',
      );
      assert.deepEqual(
        entries.map((e) => [e.actor, e.subject, e.details.reason]),
        [['olga@example.com', leaked.id, 'leaked in a CI log']],
      );
      // Other tokens are unaffected.
      assert.equal((await b.api('GET', '/whoami', undefined, ops)).status, 200);
    });

    test('the endpoint is in the OpenAPI document', async () => {
      const doc = (await a.api('GET', '/api/v1/openapi.json')).body;
      assert.ok(doc.paths['/api/v1/tokens/revocations']?.post, 'POST /api/v1/tokens/revocations');
    });
  });
});
