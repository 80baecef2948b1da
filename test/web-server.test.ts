/**
 * The dashboard's server side: static files at `/` (public, index.html for the page's own
 * addresses), and GET /events, the server-sent event stream read from the audit log, which
 * reaches the clients of every replica and accepts `?access_token=` on that route alone.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { redactAccessToken } from '../src/server/routes/events.js';
import { freshPostgres } from './support/db.js';
import { type Forge, releaseBody, sha, startForge, tempDir } from './support/forge.js';
import { buildWeb, readEvents, WEB_DIST } from './support/web.js';

/** A GET with the path sent as is (fetch would normalise `..`). */
function rawGet(
  url: string,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((ok, fail) => {
    const req = request(`${url}${path}`, { method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.path = path;
    req.on('error', fail);
    req.end();
  });
}

async function stream(forge: Forge, query: string, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const res = await fetch(`${forge.url}/api/v1/events${query}`, { headers, signal: ac.signal });
  return { res, ac };
}

test('the dashboard is served at / without a token, index.html answers its own addresses', async (t) => {
  await buildWeb();
  const forge = await startForge();
  t.after(() => forge.stop());
  const index = readFileSync(join(WEB_DIST, 'index.html'), 'utf8');

  for (const path of [
    '/',
    '/approvals',
    '/audit',
    '/releases/acme/mono/auth-service/v1.2.3',
    '/environments/production/acme/mono/auth-service',
  ]) {
    const res = await fetch(`${forge.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, path);
    assert.equal(res.headers.get('cache-control'), 'no-cache', path);
    assert.equal(await res.text(), index, path);
  }

  const asset = readdirSync(join(WEB_DIST, 'assets')).find((f) => f.endsWith('.js'))!;
  const js = await fetch(`${forge.url}/assets/${asset}`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  assert.equal(await js.text(), readFileSync(join(WEB_DIST, 'assets', asset), 'utf8'));

  const missing = await fetch(`${forge.url}/assets/nope-123.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'not_found');

  // a path escaping the assets folder gets the page, never a file from elsewhere
  const escape = await rawGet(forge.url, '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd');
  assert.equal(escape.status, 200);
  assert.equal(escape.body, index);
  const escape2 = await rawGet(forge.url, '/../package.json');
  assert.doesNotMatch(escape2.body, /"name": "forge"/);

  // the API keeps its own answers: JSON errors, tokens required
  const noToken = await forge.api('GET', '/api/v1/no-such-route');
  assert.equal(noToken.status, 401);
  const token = await forge.token(['developer']);
  const unknown = await forge.api('GET', '/api/v1/no-such-route', undefined, token);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'not_found');
  const v1 = await forge.api('GET', '/v1/no-such-route', undefined, token);
  assert.equal(v1.status, 404);
  assert.equal(v1.body.error.code, 'not_found');
});

test('GET /events streams release, deployment and approval changes from the audit log, with ?access_token= on that route only', async (t) => {
  const forge = await startForge();
  t.after(() => forge.stop());
  const reader = await forge.token(['developer'], 'dana@example.com');
  const ci = await forge.token(['service-account'], 'ci@example.com');

  const anonymous = await fetch(`${forge.url}/api/v1/events`);
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).error.code, 'authentication_required');
  const badToken = await fetch(`${forge.url}/api/v1/events?access_token=not-a-token`);
  assert.equal(badToken.status, 401);
  // the query token is for the event stream alone
  const elsewhere = await forge.api('GET', `/api/v1/projects?access_token=${reader}`);
  assert.equal(elsewhere.status, 401);

  const { res, ac } = await stream(forge, `?access_token=${encodeURIComponent(reader)}`);
  t.after(() => ac.abort());
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = readEvents(res);

  const created = await forge.api('POST', '/releases', releaseBody({}, sha(1)), ci);
  assert.equal(created.status, 201);
  const release = await events.next((e) => e.event === 'release');
  const data = JSON.parse(release.data);
  assert.equal(data.action, 'release.created');
  assert.equal(data.subject, created.body.canonical_id);
  assert.equal(release.id, String(data.seq));
  // the auto-deploy to dev that follows arrives as deployment events
  const deployment = await events.next((e) => e.event === 'deployment');
  assert.match(JSON.parse(deployment.data).action, /^deployment\./);

  // with a header instead of the query token, and resuming after an event id, what was missed arrives
  const { res: again, ac: ac2 } = await stream(forge, '', { authorization: `Bearer ${reader}`, 'last-event-id': '0' });
  t.after(() => ac2.abort());
  assert.equal(again.status, 200);
  const replay = readEvents(again);
  const first = await replay.next((e) => e.event === 'release');
  assert.equal(JSON.parse(first.data).subject, created.body.canonical_id);
});

test('events reach the clients of another replica: they come from the shared database, not process memory', async (t) => {
  const pg = await freshPostgres();
  t.after(() => pg.drop());
  const keyDir = tempDir();
  const tokenKeyFile = join(keyDir, 'token.key');
  const a = await startForge({ databaseUrl: pg.url, tokenKeyFile });
  t.after(() => a.stop());
  const b = await startForge({ databaseUrl: pg.url, tokenKeyFile });
  t.after(() => b.stop());

  const reader = await b.token(['developer']);
  const { res, ac } = await stream(b, `?access_token=${encodeURIComponent(reader)}`);
  t.after(() => ac.abort());
  assert.equal(res.status, 200);
  const events = readEvents(res);

  const created = await a.api('POST', '/releases', releaseBody({}, sha(7)), await a.token(['service-account']));
  assert.equal(created.status, 201);
  const seen = await events.next((e) => e.event === 'release');
  assert.equal(JSON.parse(seen.data).subject, created.body.canonical_id);
});

test('stopping the server ends open event streams instead of waiting for them', async () => {
  const forge = await startForge();
  const { res } = await stream(forge, `?access_token=${encodeURIComponent(await forge.token(['developer']))}`);
  assert.equal(res.status, 200);
  const events = readEvents(res);
  await forge.stop();
  await events.ended();
});

test('logged request URLs never show an access token', () => {
  assert.equal(redactAccessToken('/api/v1/events?access_token=eyJhbGc.x.y'), '/api/v1/events?access_token=[redacted]');
  assert.equal(redactAccessToken('/v1/events?a=1&access_token=abc&b=2'), '/v1/events?a=1&access_token=[redacted]&b=2');
  assert.equal(redactAccessToken('/api/v1/projects?limit=2'), '/api/v1/projects?limit=2');
});
