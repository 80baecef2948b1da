import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { batchMessage, commitMessage } from '../src/core/commit-message.js';
import { parsePointer, pointerPath, type ReleasePointer, renderPointer } from '../src/core/pointer.js';

const SHA = 'a'.repeat(40);
const DIGEST = `sha256:${'b'.repeat(64)}`;
const P: ReleasePointer = {
  repository: 'company/monorepo',
  project: 'auth-service',
  environment: 'production',
  release: SHA,
  digest: DIGEST,
  releaseNumber: 42,
  aliases: ['v1.2.3', 'main-42'],
  deploymentId: '0b6f3a5e-0000-4000-8000-000000000001',
  deployedBy: 'alice@company.com',
  deployedAt: '2026-01-01T00:00:00Z',
  approvedBy: ['bob@company.com'],
};

test('pointer path is environment first', () => {
  assert.equal(pointerPath(P), 'production/apps/company/monorepo/auth-service/release.yaml');
});

test('the pointer renders exactly as DESIGN.md §8', () => {
  assert.equal(
    renderPointer(P),
    `apiVersion: forge.projectcatalyst.io/v1alpha1
kind: ReleasePointer
metadata:
  name: auth-service
  annotations:
    forge.projectcatalyst.io/release-number: "42"
    forge.projectcatalyst.io/aliases: "v1.2.3,main-42"
    forge.projectcatalyst.io/deployment-id: "0b6f3a5e-0000-4000-8000-000000000001"
    forge.projectcatalyst.io/deployed-by: "alice@company.com"
    forge.projectcatalyst.io/deployed-at: "2026-01-01T00:00:00Z"
    forge.projectcatalyst.io/approved-by: "bob@company.com"
spec:
  repository: company/monorepo
  project: auth-service
  environment: production
  release: ${SHA}
  digest: ${DIGEST}
`,
  );
});

test('render → parse round-trips, including shas YAML would read as numbers and no approvers', () => {
  assert.deepEqual(parsePointer(renderPointer(P)), P);
  for (const release of ['1'.repeat(40), `1e${'5'.repeat(38)}`, 'c'.repeat(64)]) {
    const q = { ...P, release, approvedBy: [] };
    const text = renderPointer(q);
    assert.equal(parse(text).spec.release, release);
    assert.deepEqual(parsePointer(text), q);
  }
  assert.ok(!renderPointer({ ...P, approvedBy: [] }).includes('approved-by'));
});

test('a pointer as renderPointer writes it is read without a YAML parser, to what the parser reads (any annotation text)', () => {
  const text = fc.string({ unit: 'binary', maxLength: 12 });
  fc.assert(
    fc.property(
      fc.record({
        deployedBy: text,
        deployedAt: text,
        deploymentId: text,
        aliases: fc.array(text, { maxLength: 3 }),
        approvedBy: fc.array(text, { maxLength: 3 }),
      }),
      fc.nat({ max: 100_000 }),
      (notes, releaseNumber) => {
        const q = { ...P, ...notes, releaseNumber };
        const written = renderPointer(q);
        const quick = parsePointer(written);
        // a comment keeps the text off the quick path: the yaml package reads it
        assert.deepEqual(quick, parsePointer(`# edited\n${written}`));
        assert.deepEqual(parse(written).metadata.annotations['forge.projectcatalyst.io/deployed-by'], q.deployedBy);
      },
    ),
    { numRuns: 500 },
  );
});

test('parse refuses what is not a valid pointer, naming the field and what was expected', () => {
  const text = renderPointer(P);
  assert.throws(
    () => parsePointer(text.replace('kind: ReleasePointer', 'kind: Deployment')),
    /kind is "Deployment"; expected "ReleasePointer"/,
  );
  assert.throws(() => parsePointer(text.replace(DIGEST, 'sha256:abc')), /spec.digest: "sha256:abc" is not a manifest digest/);
  // an invisible character is shown escaped, so the value does not look valid
  assert.throws(
    () => parsePointer(text.replace(DIGEST, `"${DIGEST}\\u200b"`)),
    (err: Error) => err.message.includes(`"${DIGEST}\\u200b" is not a manifest digest`),
  );
  assert.throws(() => parsePointer(text.replace(`release: ${SHA}`, 'release: main')), /spec.release: "main" is not a full commit sha/);
  assert.throws(
    () => parsePointer(text.replace('repository: company/monorepo', 'repository: a/b/c')),
    /spec.repository: expected exactly two segments/,
  );
  assert.throws(() => parsePointer(text.replace('  project: auth-service\n', '')), /spec.project is missing/);
  assert.throws(() => parsePointer('spec: [1'), /not valid YAML/);
  assert.throws(() => parsePointer('- a\n'), /release.yaml must be a mapping/);
});

const base = {
  project: 'auth-service',
  environment: 'production',
  repository: 'company/monorepo',
  release: { releaseNumber: 42, sha: SHA, tagAliases: ['v1.2.3'] },
  previous: { releaseNumber: 41, sha: 'f'.repeat(40), tagAliases: [] },
  deployedBy: 'alice@company.com',
  approvedBy: ['bob@company.com'],
  deploymentId: 'dep-1',
};

test('deploy commit message: subject with the first tag alias, else sha7, and the body', () => {
  assert.equal(
    commitMessage({ kind: 'deploy', ...base }),
    `Deploy auth-service to production: release 42 (v1.2.3)

Repository: company/monorepo
Release: ${SHA}
Previous release: 41 (sha fffffff)
Deployed by: alice@company.com
Approved by: bob@company.com
Deployment: dep-1
`,
  );
  const first = commitMessage({ kind: 'auto', ...base, release: { ...base.release, tagAliases: [] }, previous: null, approvedBy: [] });
  assert.match(first, /^Deploy auth-service to production: release 42 \(sha aaaaaaa\)\n/);
  assert.match(first, /Previous release: none\n/);
  assert.match(first, /Approved by: none\n/);
});

test('rollback commit message as the spec shows it', () => {
  assert.equal(
    commitMessage({
      kind: 'rollback',
      ...base,
      release: { releaseNumber: 41, sha: SHA, tagAliases: ['v1.2.2'] },
      previous: { releaseNumber: 42, sha: SHA, tagAliases: ['v1.2.3'] },
    }),
    'Rollback auth-service in production to release 41 (v1.2.2)\n\nPrevious release: 42 (v1.2.3)\nRolled back by: alice@company.com\n',
  );
});

test('a batch of one is the message itself; a larger batch lists every subject and message', () => {
  const a = commitMessage({ kind: 'deploy', ...base });
  const b = commitMessage({ kind: 'deploy', ...base, project: 'billing' });
  assert.equal(batchMessage([a]), a);
  const both = batchMessage([a, b]);
  assert.match(both, /^Deploy 2 releases\n\n- Deploy auth-service to production: release 42 \(v1.2.3\)\n- Deploy billing to production/);
  assert.ok(both.includes(a.trimEnd()) && both.includes(b.trimEnd()));
});
