/**
 * Unit tests of src/core/pointer.ts beyond test/gitops-pointer.test.ts (which covers the exact
 * rendering and the round trip): what parsing tolerates in annotations and what it refuses in spec.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PointerError, parsePointer, type ReleasePointer, renderPointer } from '../../src/core/pointer.js';

const P: ReleasePointer = {
  repository: 'acme/mono',
  project: 'auth-service',
  environment: 'staging',
  release: 'a'.repeat(40),
  digest: `sha256:${'b'.repeat(64)}`,
  releaseNumber: 3,
  aliases: ['v1', 'main-3'],
  deploymentId: 'd-1',
  deployedBy: 'ci@example.com',
  deployedAt: '2026-01-01T00:00:00Z',
  approvedBy: [],
};

test('annotations are informational: missing or odd ones read as empty, never fail the pointer', () => {
  const bare = renderPointer(P).replace(/ {2}annotations:\n( {4}.*\n)+/, '');
  assert.deepEqual(parsePointer(bare), { ...P, releaseNumber: 0, aliases: [], deploymentId: '', deployedBy: '', deployedAt: '' });
  const odd = renderPointer(P)
    .replace('release-number: "3"', 'release-number: "03"')
    .replace('aliases: "v1,main-3"', 'aliases: " v1 , ,main-3,"');
  assert.deepEqual(parsePointer(odd), { ...P, releaseNumber: 0 });
});

test('spec fields must be lower-case: Git hosts and registries are, and the path is built from them', () => {
  const text = renderPointer(P);
  assert.throws(
    () => parsePointer(text.replace('repository: acme/mono', 'repository: Acme/mono')),
    /spec.repository: "Acme\/mono" must be lower-case/,
  );
  assert.throws(
    () => parsePointer(text.replace(`release: ${P.release}`, `release: ${'A'.repeat(40)}`)),
    /spec.release: "A+" must be lower-case hex/,
  );
  assert.throws(
    () => parsePointer(text.replace('environment: staging', 'environment: Staging')),
    /spec.environment: "Staging" is not a DNS label/,
  );
});

test('every refusal is a PointerError', () => {
  for (const text of ['', 'apiVersion: v1\n', renderPointer(P).replace('spec:', 'spec: 7\nx:')]) {
    assert.throws(() => parsePointer(text), PointerError, JSON.stringify(text));
  }
  assert.throws(() => parsePointer(''), /release.yaml must be a mapping, got null/);
});

test('aliases and approvers with commas, brackets, quotes or newlines read back exactly (issue #13 item 4)', () => {
  const lists = [
    ['a,b', 'c'],
    ['[x]'],
    [' v1'],
    ['v1', ''],
    ['"q"', 'back\\slash'],
    ['line\nbreak', 'nel\u0085', 'sep\u2028'],
    ['é', '日本'],
    [],
  ];
  for (const aliases of lists) {
    for (const approvedBy of [aliases, ['bob@example.com']]) {
      const p = { ...P, aliases, approvedBy, deployedBy: aliases[0] ?? 'x\ny: z' };
      const text = renderPointer(p);
      assert.ok(/^[\x20-\x7e\n]*$/.test(text), text);
      assert.deepEqual(parsePointer(text), p);
    }
  }
  // The comma form stays for lists that need no escaping (pointers written before still parse).
  assert.match(renderPointer(P), /aliases: "v1,main-3"/);
});
