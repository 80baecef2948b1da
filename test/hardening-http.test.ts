/**
 * The HTTP edge's hardening (issue 19 items 5 and 7): authentication decided on the matched
 * route, event streams that end with their token and are capped per replica, and the
 * dashboard's Content-Security-Policy and frame headers.
 */

import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { freshPostgres } from './support/db.js';
import { eventually } from './support/eventually.js';
import { type Forge, releaseBody, startForge } from './support/forge.js';

let forge: Forge;
before(async () => {
  forge = await startForge({ env: { FORGE_MAX_EVENT_STREAMS: '2' } });
});
after(() => forge.stop());

describe('authentication is decided on the matched route', () => {
  for (const path of ['/%61pi/v1/whoami', '/api/%761/whoami', '/%61%70%69/v1/audit', '/api/v1/%77hoami', '/%76%31/whoami']) {
    test(`${path}: no token is a 401, a forged one a 401, a good one a 200`, async () => {
      const none = await fetch(`${forge.url}${path}`);
      const forged = await fetch(`${forge.url}${path}`, { headers: { authorization: 'Bearer not-a-token' } });
      const good = await fetch(`${forge.url}${path}`, { headers: { authorization: `Bearer ${await forge.token(['operator'])}` } });
      // The router decodes the path: the encoded one reaches the route, and is authenticated like it.
      assert.equal(good.status, 200, await good.text());
      assert.equal(none.status, 401);
      assert.equal(forged.status, 401);
      assert.equal((await forged.json()).error.code, 'authentication_required');
    });
  }
});

describe('event streams', () => {
  test('a stream ends when its token expires, saying why', async () => {
    const token = await forge.token(['developer'], 'short@example.com', 2);
    const res = await fetch(`${forge.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const text = await res.text(); // resolves only when the server ends the stream
    assert.match(text, /event: token-expired/);
    // And the expired token is refused from then on.
    const again = await fetch(`${forge.url}/api/v1/events?access_token=${token}`);
    assert.equal(again.status, 401);
  });
  test('a replica serves at most FORGE_MAX_EVENT_STREAMS streams; one more is a 429 with the envelope, and a closed one frees its place', async () => {
    const token = await forge.token(['developer']);
    const aborts = [new AbortController(), new AbortController()];
    const open = await Promise.all(
      aborts.map((a) => fetch(`${forge.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: a.signal })),
    );
    assert.deepEqual(
      open.map((r) => r.status),
      [200, 200],
    );
    const third = await fetch(`${forge.url}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(third.status, 429);
    assert.equal((await third.json()).error.code, 'too_many_requests');
    aborts[0].abort();
    // The server notices the closed connection; then a new stream is served.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      const a = new AbortController();
      const r = await fetch(`${forge.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: a.signal });
      status = r.status;
      if (status !== 200) await new Promise((ok) => setTimeout(ok, 50));
      a.abort();
    }
    assert.equal(status, 200);
    aborts[1].abort();
  });
});

describe('the dashboard', () => {
  test('sends a Content-Security-Policy that refuses framing, and frame and sniffing headers', async () => {
    for (const path of ['/', '/approvals', '/dashboard-config.json']) {
      const res = await fetch(`${forge.url}${path}`);
      await res.arrayBuffer();
      const csp = res.headers.get('content-security-policy') ?? '';
      if (res.status === 404) continue; // the dashboard is not built in this checkout: nothing to frame
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /object-src 'none'/, path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    }
    const config = await fetch(`${forge.url}/dashboard-config.json`);
    assert.equal(config.status, 200);
    assert.match(config.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });
});

describe('a full disk', () => {
  test('an approval while PostgreSQL is out of disk (SQLSTATE 53100) is a 503 with the envelope, never a 500; it works again once there is room', async () => {
    const { url, drop } = await freshPostgres();
    const f = await startForge({ databaseUrl: url });
    const sql = new pg.Client({ connectionString: url });
    await sql.connect();
    try {
      const ci = await f.token(['service-account'], 'ci@example.com');
      assert.equal((await f.api('POST', '/releases', releaseBody(), ci)).status, 201);
      // What PostgreSQL answers when it cannot extend a file: the same error class, raised by a trigger.
      await sql.query(`CREATE FUNCTION h7_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'could not extend file "base/16384/16385": No space left on device' USING ERRCODE = '53100'; END $$`);
      await sql.query('CREATE TRIGGER h7_disk_full BEFORE INSERT ON approvals FOR EACH ROW EXECUTE FUNCTION h7_disk_full()');
      const approver = await f.token(['approver:production'], 'alex@example.com');
      const body = { repository: 'acme/mono', project: 'auth-service', environment: 'production', release: '1', justification: 'CAB-1' };
      const full = await f.api('POST', '/approvals', body, approver);
      assert.equal(full.status, 503, full.text);
      assert.equal(full.body.error.code, 'database_unavailable');
      assert.match(full.body.error.message, /out of storage .*nothing was recorded: retry later/);
      assert.doesNotMatch(full.text, /base\/16384/, "the database's own words stay in the log");

      await sql.query('DROP TRIGGER h7_disk_full ON approvals');
      const room = await f.api('POST', '/approvals', body, approver);
      assert.equal(room.status, 201, room.text);
    } finally {
      await sql.end();
      await f.stop();
      await drop();
    }
  });
});

/** A raw connection to `url`'s host and port: what it receives until the server closes it. */
function rawSocket(url: string): { socket: Socket; connected: Promise<void>; received: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  const connected = new Promise<void>((ok, fail) => {
    socket.once('connect', ok);
    socket.once('error', fail);
  });
  const received = new Promise<string>((ok) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.once('close', () => ok(text));
  });
  return { socket, connected, received };
}

/** Sends `request` (bytes) on a new connection and returns the whole answer, read until the server closes. */
async function rawRequest(url: string, request: Buffer | string): Promise<{ status: number; body: any; text: string }> {
  const { socket, connected, received } = rawSocket(url);
  await connected;
  socket.write(request);
  const text = await received;
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const body = text.includes('\r\n\r\n') ? text.slice(text.indexOf('\r\n\r\n') + 4) : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  return { status, body: parsed, text };
}

describe('slow and many connections (issue 19, attack review A)', () => {
  let edge: Forge;
  before(async () => {
    edge = await startForge({
      env: { FORGE_MAX_CONNECTIONS: '4', FORGE_HEADERS_TIMEOUT_MS: '500', FORGE_REQUEST_TIMEOUT_MS: '1500' },
    });
  });
  after(() => edge.stop());

  test('past FORGE_MAX_CONNECTIONS a new connection is closed unanswered; once the others go, /healthz answers again', async () => {
    // Four kept-alive connections, each answered once, hold the four places (raw sockets: no fetch pool here).
    const held = [];
    for (let i = 0; i < 4; i++) {
      const c = rawSocket(edge.url);
      await c.connected;
      c.socket.write('GET /healthz HTTP/1.1\r\nHost: forge\r\n\r\n');
      await eventually('a kept-alive answer', () => c.socket.readableLength > 0 || c.socket.bytesRead > 0);
      held.push(c);
    }
    const extra = await rawRequest(edge.url, 'GET /healthz HTTP/1.1\r\nHost: forge\r\nConnection: close\r\n\r\n');
    assert.equal(extra.text, '', 'the fifth connection is closed without an answer');
    for (const c of held) c.socket.destroy();
    const again = await eventually('a place freed', async () => {
      const r = await rawRequest(edge.url, 'GET /healthz HTTP/1.1\r\nHost: forge\r\nConnection: close\r\n\r\n');
      return r.status === 200 ? r : undefined;
    });
    assert.equal(again.status, 200);
  });

  // The test's timeout is a guard: with Node's defaults (60 s for headers, 300 s for a request) these hang past it.
  test('a client that never finishes its headers is disconnected after FORGE_HEADERS_TIMEOUT_MS', { timeout: 20_000 }, async () => {
    const { socket, connected, received } = rawSocket(edge.url);
    await connected;
    socket.write('GET /healthz HTTP/1.1\r\nHost: forge\r\nX-Slow: a'); // and nothing more
    const text = await received; // resolves only when the server closes the connection
    assert.match(text, /^(HTTP\/1\.1 408|$)/, text);
  });

  test('a body sent slower than FORGE_REQUEST_TIMEOUT_MS allows gets a 408 with the envelope and the connection is closed', {
    timeout: 20_000,
  }, async () => {
    const { socket, connected, received } = rawSocket(edge.url);
    await connected;
    const ci = await edge.token(['service-account'], 'ci@example.com');
    socket.write(
      `POST /api/v1/releases HTTP/1.1\r\nHost: forge\r\nAuthorization: Bearer ${ci}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{`,
    );
    const drip = setInterval(() => socket.writable && socket.write(' '), 200);
    try {
      const text = await received;
      assert.match(text, /^HTTP\/1\.1 408 /, text);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      assert.equal(body.error.code, 'validation_error');
      assert.match(body.error.message, /FORGE_REQUEST_TIMEOUT_MS/);
    } finally {
      clearInterval(drip);
    }
  });
});

describe('requests the HTTP parser refuses get the error envelope (issue 19, attack review E)', () => {
  const cases: [string, Buffer | string, number, string][] = [
    ['a 100 KB query value', `GET /healthz?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: forge\r\n\r\n`, 431, 'payload_too_large'],
    ['a raw NUL in the path', Buffer.from('GET /heal\0thz HTTP/1.1\r\nHost: forge\r\n\r\n', 'latin1'), 400, 'validation_error'],
    ['a raw NUL in a header', Buffer.from('GET /healthz HTTP/1.1\r\nHost: forge\r\nX-A: a\0b\r\n\r\n', 'latin1'), 400, 'validation_error'],
    [
      'a 0xFF byte in a header name',
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: forge\r\nX-\xff: a\r\n\r\n', 'latin1'),
      400,
      'validation_error',
    ],
    [
      'Content-Length with Transfer-Encoding',
      'POST /api/v1/releases HTTP/1.1\r\nHost: forge\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'validation_error',
    ],
  ];
  for (const [name, request, status, code] of cases) {
    test(`${name}: ${status} ${code}`, async () => {
      const res = await rawRequest(forge.url, request);
      assert.equal(res.status, status, res.text.slice(0, 300));
      assert.match(res.text, /\r\ncontent-type: application\/json\r\n/i);
      assert.equal(res.body?.error?.code, code, res.text.slice(0, 300));
      assert.match(res.body.error.message, status === 431 ? /headers are larger/ : /^malformed HTTP request \(HPE_\w+\): \S/);
      assert.doesNotMatch(res.body.error.message, /aaaa/, 'the request is not quoted');
      assert.doesNotMatch(res.text, /Client Error|statusCode/);
    });
  }
});
