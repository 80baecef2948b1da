/** Unit tests of src/core/identity.ts: release identity validation and the names derived from it (DESIGN.md §2). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../../src/core/errors.js';
import {
  canonicalId,
  imageRepository,
  ociReference,
  parseIdentity,
  projectProblem,
  repositoryProblem,
  shaProblem,
} from '../../src/core/identity.js';

const SHA = 'A'.repeat(40);

test('repository: exactly <owner>/<name>, segments of [a-z0-9] joined by . _ -, at most 100 characters each', () => {
  for (const ok of ['acme/mono', 'Acme/Mono', 'a.b/c_d-e', 'x/y', `${'a'.repeat(100)}/b`])
    assert.equal(repositoryProblem(ok), undefined, ok);
  assert.match(repositoryProblem('acme')!, /exactly two segments/);
  assert.match(repositoryProblem('a/b/c')!, /exactly two segments "<owner>\/<name>", got "a\/b\/c"/);
  assert.match(repositoryProblem(`${'a'.repeat(101)}/b`)!, /longer than 100 characters/);
  assert.match(repositoryProblem('acme/-mono')!, /segment "-mono" must match/);
  assert.match(repositoryProblem('acme/mo..no')!, /segment "mo..no" must match/);
  assert.match(repositoryProblem('acme/')!, /segment "" must match/);
  assert.match(repositoryProblem(42)!, /expected a string/);
});

test('project: a DNS label', () => {
  for (const ok of ['a', 'auth-service', 'a1', 'x'.repeat(63)]) assert.equal(projectProblem(ok), undefined, ok);
  for (const bad of ['', '-a', 'a-', 'Auth', 'a_b', 'a.b', 'x'.repeat(64)]) assert.match(projectProblem(bad)!, /is not a DNS label/, bad);
  assert.match(projectProblem(null)!, /expected a string/);
});

test('sha: 40 or 64 hex characters, any case', () => {
  for (const ok of ['a'.repeat(40), SHA, 'f'.repeat(64)]) assert.equal(shaProblem(ok), undefined);
  for (const bad of ['a'.repeat(39), 'a'.repeat(41), 'a'.repeat(63), 'g'.repeat(40), 'main'])
    assert.match(shaProblem(bad)!, /is not a full commit sha/, bad);
  assert.match(shaProblem(undefined)!, /expected a string of 40 or 64 hex/);
});

test('parseIdentity lower-cases the repository and sha and names every bad field with the path the caller gives', () => {
  assert.deepEqual(parseIdentity({ repository: 'Acme/Mono', project: 'auth-service', sha: SHA }), {
    repository: 'acme/mono',
    project: 'auth-service',
    sha: 'a'.repeat(40),
  });
  assert.throws(
    () => parseIdentity({ repository: 'a/b/c', project: 'Bad', sha: 'main' }),
    (err: unknown) => {
      assert.ok(err instanceof ForgeError);
      assert.equal(err.code, 'validation_error');
      assert.equal(err.status, 400);
      const fields = (err.details as { fields: { path: string }[] }).fields.map((f) => f.path);
      assert.deepEqual(fields, ['repository', 'project', 'commit.sha']);
      return true;
    },
  );
  assert.throws(
    () =>
      parseIdentity(
        { repository: 'acme/mono', project: 'x', sha: 'nope' },
        { repository: 'spec.repository', project: 'spec.project', sha: 'spec.release' },
      ),
    /invalid request: spec\.release: "nope" is not a full commit sha/,
  );
});

test('derived names: canonical id, image repository and OCI reference (trailing slashes of the registry dropped)', () => {
  const id = { repository: 'acme/mono', project: 'auth-service', sha: 'a'.repeat(40) };
  assert.equal(canonicalId(id), `acme/mono/auth-service/${'a'.repeat(40)}`);
  assert.equal(imageRepository(id), 'acme/mono/auth-service');
  assert.equal(ociReference('registry.example:5000//', id), `registry.example:5000/acme/mono/auth-service:${'a'.repeat(40)}`);
});
