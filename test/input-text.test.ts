/**
 * NUL, invalid UTF-8, lone surrogates and over-deep nesting in any path segment, query,
 * header-derived value or body string are a 400 validation_error naming the field, never a
 * 500 (issue 12 item 8, issue 19 item 7). Against a real server, on every route of the
 * OpenAPI document.
 */

import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';

let forge: Forge;
let token: string;
let routes: { method: string; path: string }[];

before(async () => {
  forge = await startForge();
  // Every role: the refusal under test is the input's, not a permission's.
  token = await forge.token(
    ['service-account', 'operator', 'developer', 'integration:argocd', 'deployer:staging', 'approver:staging'],
    'hygiene@example.com',
  );
  assert.equal((await forge.api('POST', '/releases', releaseBody({}, sha(1)), token)).status, 201);
  const doc = (await forge.api('GET', '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  routes = Object.entries(doc.paths)
    .filter(([path]) => !path.endsWith('/events'))
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })));
});
after(() => forge.stop());

/** Sends raw bytes as the body (fetch would re-encode a string as UTF-8). */
async function raw(method: string, path: string, body?: Uint8Array | string) {
  const res = await fetch(`${forge.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

function assertNamed(res: { status: number; body: any; text: string }, field: string | RegExp, what: string) {
  assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.body.error.code, 'validation_error', what);
  const paths: string[] = (res.body.error.details?.fields ?? []).map((p: { path: string }) => p.path);
  assert.ok(
    paths.some((p) => (typeof field === 'string' ? p === field : field.test(p))),
    `${what}: the answer names ${field}: ${res.text}`,
  );
}

describe('path segments', () => {
  test('the reported input: GET /api/v1/releases/1/1/mono/%00', async () => {
    assertNamed(await raw('GET', '/api/v1/releases/1/1/mono/%00'), /^params\./, 'NUL segment');
  });
  for (const [bad, what] of [
    ['%00', 'NUL'],
    ['a%00b', 'embedded NUL'],
    ['%FF', 'invalid UTF-8'],
    ['%C3', 'truncated UTF-8'],
    ['%ED%A0%80', 'an encoded surrogate'],
    ['%E0%80%80', 'an over-long encoding'],
  ]) {
    test(`${what} in every parameter of every route`, async () => {
      for (const route of routes) {
        const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const name of names) {
          const path = route.path.replace(/\{([^}]+)\}/g, (_, n) => (n === name ? bad : n === 'release' ? '1' : 'x'));
          const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}';
          assertNamed(await raw(route.method, path, body), `params.${name}`, `${route.method} ${path}`);
        }
      }
    });
  }
});

describe('query strings', () => {
  for (const [bad, what] of [
    ['%00', 'NUL'],
    ['%FF', 'invalid UTF-8'],
    ['%ED%B0%80', 'an encoded lone surrogate'],
  ]) {
    test(`${what} in a query parameter of every GET route`, async () => {
      for (const route of routes.filter((r) => r.method === 'GET')) {
        const path = route.path.replace(/\{([^}]+)\}/g, (_, n) => (n === 'release' ? '1' : 'x'));
        assertNamed(await raw('GET', `${path}?limit=1&q${bad}x=1`), /^query/, `${path} name`);
        assertNamed(await raw('GET', `${path}?offset=${bad}`), 'query.offset', `${path} value`);
      }
    });
  }
  test('a harmless query still works', async () => {
    const res = await raw('GET', '/api/v1/audit?limit=1');
    assert.equal(res.status, 200, res.text);
  });
});

describe('header-derived values', () => {
  test('a lone surrogate cannot arrive in a header; a Last-Event-ID with bytes above 0x7f is ignored, not a 500', async () => {
    const abort = new AbortController();
    const res = await fetch(`${forge.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${token}`, 'last-event-id': Buffer.from('\u00ff\u00fe', 'latin1').toString('latin1') },
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    abort.abort();
  });
  test('an X-Request-Id that is not plain ASCII is replaced, not echoed', async () => {
    const res = await new Promise<{ status: number; id: string }>((ok, fail) => {
      const req = request(
        `${forge.url}/healthz`,
        { headers: { 'x-request-id': Buffer.from('id-\u00ff', 'latin1').toString('latin1') } },
        (r) => {
          r.resume();
          ok({ status: r.statusCode ?? 0, id: String(r.headers['x-request-id']) });
        },
      );
      req.on('error', fail);
      req.end();
    });
    assert.equal(res.status, 200);
    assert.match(res.id, /^[0-9a-f-]{36}$/);
  });
});

describe('body strings', () => {
  const post = (body: Uint8Array | string) => raw('POST', '/api/v1/releases', body);
  test('invalid UTF-8 bytes in a JSON body', async () => {
    const json = Buffer.from(JSON.stringify(releaseBody({}, sha(2))));
    const at = json.indexOf('Alice');
    json[at] = 0xff;
    assertNamed(await post(json), 'body', 'invalid UTF-8');
  });
  test('NUL and lone surrogates in body strings and keys, at any depth, on every JSON route', async () => {
    const cases: [unknown, string][] = [
      [releaseBody({ project: 'a\u0000b' }, sha(3)), 'project'],
      [releaseBody({ commit: { sha: sha(3), author: 'A \ud800', message: 'm', committed_at: '2026-01-02T03:04:05Z' } }), 'commit.author'],
      [
        releaseBody({ resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'x\udc00' } }] }, sha(3)),
        'resources[0].data.k',
      ],
      [
        releaseBody({ resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'k\u0000': 'v' } }] }, sha(3)),
        'resources[0].data',
      ],
    ];
    for (const [body, field] of cases) {
      const text = JSON.stringify(body); // JSON.stringify writes lone surrogates as \ud800 escapes
      const res = await post(text);
      assertNamed(res, field.endsWith('.data') ? /^resources\[0\]\.data\[/ : field, field);
    }
    for (const route of routes.filter((r) => r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH')) {
      const path = route.path.replace(/\{([^}]+)\}/g, (_, n) => (n === 'release' ? '1' : 'x'));
      for (const value of ['\u0000', '\ud83d', 'ok\udfff']) {
        const res = await raw(route.method, path, JSON.stringify({ some_field: value, nested: { deeper: [value] } }));
        assertNamed(res, /^(some_field|nested\.deeper\[0\])$/, `${route.method} ${path} ${JSON.stringify(value)}`);
      }
    }
  });
  test('nesting 20,000 deep is a 400, not a stack overflow', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const res = await post(`{"artifacts": ${deep}}`);
    assertNamed(res, /^artifacts/, 'deep artifacts');
    const deepObject = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    assertNamed(await post(deepObject), /^a(\.a)*$/, 'deep object');
  });
  test('huge numbers are refused by the schema, not a 500', async () => {
    for (const n of ['1e400', '-1e400', '123456789012345678901234567890']) {
      const res = await raw('GET', `/api/v1/audit?offset=${n}`);
      assert.equal(res.status, 400, `offset=${n}: ${res.text}`);
      assert.equal(res.body.error.code, 'validation_error');
    }
  });
  test('a well-formed astral character (a valid surrogate pair) is accepted', async () => {
    const res = await post(
      JSON.stringify(
        releaseBody(
          { commit: { sha: sha(9), author: 'A 😀 <a@example.com>', message: 'm', committed_at: '2026-01-02T03:04:05Z' } },
          sha(9),
        ),
      ),
    );
    assert.equal(res.status, 201, res.text);
  });
});
