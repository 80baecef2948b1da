/** Unit tests of src/core/errors.ts: the error vocabulary and its HTTP statuses (DESIGN.md §10). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ErrorCode, errorEnvelope, ForgeError, validationError } from '../../src/core/errors.js';

test('every code has its HTTP status', () => {
  const expected: Record<ErrorCode, number> = {
    validation_error: 400,
    authentication_required: 401,
    permission_denied: 403,
    policy_denied: 403,
    not_found: 404,
    conflict: 409,
    alias_conflict: 409,
    ambiguous_reference: 409,
    payload_too_large: 413,
    registry_unavailable: 503,
    gitops_unavailable: 503,
    gitops_rejected: 502,
    database_unavailable: 503,
    too_many_requests: 429,
    signing_key_retired: 503,
    server_busy: 503,
    internal_error: 500,
  };
  for (const [code, status] of Object.entries(expected)) {
    const err = new ForgeError(code as ErrorCode, 'm');
    assert.equal(err.status, status, code);
    assert.equal(err.code, code);
    assert.equal(err.name, 'ForgeError');
    assert.ok(err instanceof Error);
  }
});

test('a validation error lists every field problem in its message and its details', () => {
  const err = validationError([
    { path: 'resources[3].metadata.name', message: 'is required' },
    { path: 'project', message: 'is not a DNS label' },
  ]);
  assert.equal(err.code, 'validation_error');
  assert.equal(err.message, 'invalid request: resources[3].metadata.name: is required; project: is not a DNS label');
  assert.deepEqual(err.details, {
    fields: [
      { path: 'resources[3].metadata.name', message: 'is required' },
      { path: 'project', message: 'is not a DNS label' },
    ],
  });
});

test('the envelope carries code and message, and details only when there are some', () => {
  assert.deepEqual(errorEnvelope(new ForgeError('not_found', 'no release 7')), { error: { code: 'not_found', message: 'no release 7' } });
  assert.deepEqual(errorEnvelope(new ForgeError('conflict', 'taken', { alias: 'v1' })), {
    error: { code: 'conflict', message: 'taken', details: { alias: 'v1' } },
  });
});
