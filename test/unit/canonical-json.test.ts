/** Unit tests of src/core/canonical-json.ts: the same value always gives the same bytes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';

test('keys are sorted at every level; array order is kept', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

test('undefined members are dropped as JSON.stringify drops them; dates serialise as ISO strings', () => {
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  assert.equal(canonicalJson({ at: new Date('2026-01-02T03:04:05.006Z') }), '{"at":"2026-01-02T03:04:05.006Z"}');
});

test('scalars and empty containers are plain JSON', () => {
  for (const v of [0, -1.5, 'x"y', true, null, [], {}]) assert.equal(canonicalJson(v), JSON.stringify(v));
});
