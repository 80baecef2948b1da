/**
 * Fuzzing the HTTP edge (issue 8, acceptance 3): every route in the OpenAPI document gets
 * generated malformed bodies, paths and headers. The answer is always a 4xx (or a 2xx for a
 * harmless read) with the error envelope, never a 5xx, and the server keeps serving.
 */

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';

let forge: Forge;
let token: string;
let routes: { method: string; path: string }[];
// Bodies: a thousand per JSON route; paths and headers: fewer, their space is smaller.
const BODY_RUNS = Number(process.env.FORGE_FUZZ_RUNS ?? 1000);
const RUNS = Math.ceil(BODY_RUNS / 5);

before(async () => {
  forge = await startForge();
  token = await forge.token(['service-account', 'operator'], 'fuzzer@example.com');
  assert.equal((await forge.api('POST', '/releases', releaseBody({}, sha(1)), token)).status, 201);
  const doc = (await forge.api('GET', '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  // The event stream never ends by design; test/web-events covers it.
  routes = Object.entries(doc.paths)
    .filter(([path]) => !path.endsWith('/events'))
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })));
  assert.ok(routes.length >= 8, `the OpenAPI document lists the routes (${routes.length})`);
});
after(() => forge.stop());

function checkAnswer(status: number, body: any, what: string) {
  if (status >= 500) process.stderr.write(`FUZZ FAILURE ${what} → ${status} ${JSON.stringify(body)}\n`);
  assert.ok(status < 500, `${what} → ${status} ${JSON.stringify(body)}`);
  if (status >= 400) {
    assert.equal(typeof body?.error?.code, 'string', `${what}: envelope`);
    assert.equal(typeof body?.error?.message, 'string', `${what}: envelope`);
  }
}

const segment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('..', '.', '%2e%2e', '%00', 'a'.repeat(300), '1', '0', '-1', '99999999999', sha(1), 'v1.0.0'),
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
);
const fill = (path: string, values: string[]) => {
  let i = 0;
  return path.replace(/\{[^}]+\}/g, () => encodeURIComponent(values[i++ % values.length] ?? 'x'));
};

test('malformed JSON bodies on every route never give a 5xx', async () => {
  const bodies = fc.oneof(
    fc.anything({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ maxLength: 200 }),
    fc
      .record(
        {
          repository: fc.anything(),
          project: fc.anything(),
          commit: fc.anything(),
          trigger: fc.anything(),
          resources: fc.anything(),
          environment: fc.anything(),
          release: fc.anything(),
          justification: fc.anything(),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
    fc.constantFrom('{', '[', '{"a":', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '[]'.repeat(100)),
  );
  for (const route of routes.filter((r) => r.method !== 'GET')) {
    await fc.assert(
      fc.asyncProperty(bodies, fc.array(segment, { minLength: 1, maxLength: 5 }), async (body, params) => {
        const res = await forge.api(route.method, fill(route.path, params), body, token);
        checkAnswer(res.status, res.body, `${route.method} ${route.path} ${body.slice(0, 80)}`);
      }),
      { numRuns: BODY_RUNS },
    );
  }
});

test('generated paths and query strings on every route never give a 5xx', async () => {
  for (const route of routes) {
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.dictionary(fc.constantFrom('limit', 'offset', 'status', 'environment', 'x'), fc.string({ maxLength: 12 })),
        async (params, query) => {
          const qs = new URLSearchParams(query).toString();
          const res = await forge.api(
            route.method,
            `${fill(route.path, params)}${qs ? `?${qs}` : ''}`,
            route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
            token,
          );
          checkAnswer(res.status, res.body, `${route.method} ${route.path} ${JSON.stringify(params)} ?${qs}`);
        },
      ),
      { numRuns: RUNS },
    );
  }
});

test('generated headers: tokens, content types, accept', async () => {
  const headerValue = fc.oneof(
    fc.string({ maxLength: 100 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    fc.constantFrom('Bearer', 'Bearer ', 'Basic abc', 'Bearer a.b.c', `Bearer ${'x'.repeat(5000)}`),
  );
  await fc.assert(
    fc.asyncProperty(headerValue, headerValue, fc.constantFrom(...routes), async (auth, ctype, route) => {
      const res = await fetch(`${forge.url}${fill(route.path, ['acme', 'mono', 'auth-service', '1'])}`, {
        method: route.method,
        headers: { authorization: auth, 'content-type': ctype, accept: ctype },
        body: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{"a":1}',
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      checkAnswer(res.status, body, `${route.method} ${route.path} auth=${auth.slice(0, 30)} ctype=${ctype.slice(0, 30)}`);
    }),
    { numRuns: RUNS * 4 },
  );
});

test('bombs: deeply nested JSON and huge strings are refused within limits; the server keeps serving', async () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const nested = await forge.api('POST', '/releases', `{"repository":${deep}}`, token);
  checkAnswer(nested.status, nested.body, 'deep nesting');
  assert.ok(nested.status >= 400);
  const deepResources = JSON.stringify(
    releaseBody({ resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: 'DEEP' }] }, sha(3)),
  ).replace('"DEEP"', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
  const deepObj = await forge.api('POST', '/releases', deepResources, token);
  assert.equal(deepObj.status, 400, 'deep object in a resource');
  assert.match(deepObj.body.error.message, /resources\[0\]\.data(\.a)+: is nested deeper than 64 levels/);
  const huge = await forge.api('POST', '/releases', JSON.stringify(releaseBody({ project: 'x'.repeat(20_000_000) }, sha(4))), token);
  assert.equal(huge.status, 413);
  assert.equal((await forge.api('GET', '/releases/acme/mono/auth-service/1', undefined, token)).status, 200);
});

/** Every leaf position of a JSON value: [path for the answer, path as keys]. */
function leaves(value: unknown, path = '', keys: (string | number)[] = []): { field: string; keys: (string | number)[]; leaf: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, `${path}[${i}]`, [...keys, i]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k, [...keys, k]));
  return [{ field: path, keys, leaf: value }];
}

function withRaw(body: unknown, keys: (string | number)[], raw: string): string {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let at = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[keys.at(-1)!] = '@@RAW@@';
  return JSON.stringify(copy).replace('"@@RAW@@"', raw);
}

test('per JSON route: NUL, lone surrogates, deep nesting and huge numbers in every string and number position (issue 19)', async () => {
  const template = {
    ...releaseBody({}, sha(7)),
    environment: 'staging',
    release: '1',
    justification: 'fuzz',
    limit: 5,
    expires_in_seconds: 3600,
  };
  const positions = leaves(template).filter((l) => typeof l.leaf === 'string' || typeof l.leaf === 'number');
  assert.ok(positions.length >= 15, `positions: ${positions.length}`);
  // Every role: the refusal under test is the input's, not a permission's.
  const all = await forge.token(
    ['service-account', 'operator', 'developer', 'integration:argocd', 'deployer:staging', 'approver:staging'],
    'fuzz-all@example.com',
  );
  const bad: { raw: string; kind: 'text' | 'any' }[] = [
    { raw: '"a\\u0000b"', kind: 'text' },
    { raw: '"x\\ud800"', kind: 'text' },
    { raw: '"\\udfffy"', kind: 'text' },
    { raw: '1e400', kind: 'any' },
    { raw: '-1e400', kind: 'any' },
    { raw: '123456789012345678901234567890', kind: 'any' },
    { raw: `${'['.repeat(200)}${']'.repeat(200)}`, kind: 'any' },
  ];
  for (const route of routes.filter((r) => r.method !== 'GET')) {
    const path = fill(route.path, ['acme', 'mono', 'auth-service', '1', 'staging']);
    for (const { field, keys } of positions) {
      for (const { raw, kind } of bad) {
        const res = await forge.api(route.method, path, withRaw(template, keys, raw), all);
        checkAnswer(res.status, res.body, `${route.method} ${route.path} ${field}=${raw.slice(0, 20)}`);
        if (kind === 'text') {
          assert.equal(res.status, 400, `${route.method} ${route.path} ${field}=${raw}: ${res.text}`);
          const named = (res.body.error.details?.fields ?? []).map((f: { path: string }) => f.path);
          assert.ok(named.includes(field), `${route.method} ${route.path}: the answer names ${field}: ${res.text}`);
        }
      }
    }
  }
});
