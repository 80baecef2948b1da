/**
 * Unit tests of src/core/commit-message.ts beyond test/gitops-pointer.test.ts (which checks the
 * deploy, rollback and batch messages in full): how a release is labelled and how a batch is laid out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  batchMessage,
  commitMessage,
  messageValue,
  parseCommitMessage,
  parseMessageList,
  parseMessageValue,
  parseReleaseLabel,
  releaseLabel,
} from '../../src/core/commit-message.js';

test('a release is labelled by number and its first tag alias, else its short sha', () => {
  assert.equal(releaseLabel({ releaseNumber: 42, sha: '0123456789abcdef', tagAliases: ['v1.2.3', 'v1.2'] }), '42 (v1.2.3)');
  assert.equal(releaseLabel({ releaseNumber: 1, sha: '0123456789abcdef', tagAliases: [] }), '1 (sha 0123456)');
});

test('review F8: a tag that looks like a short sha and a short sha never read alike, and each parses back as what it is', () => {
  const tag = releaseLabel({ releaseNumber: 3, sha: 'f'.repeat(40), tagAliases: ['ABCDEF1'] });
  const sha = releaseLabel({ releaseNumber: 3, sha: `abcdef1${'0'.repeat(33)}`, tagAliases: [] });
  assert.equal(tag, '3 (ABCDEF1)');
  assert.equal(sha, '3 (sha abcdef1)');
  assert.notEqual(tag.toLowerCase(), sha.toLowerCase());
  assert.deepEqual(parseReleaseLabel(tag), { releaseNumber: 3, name: 'ABCDEF1', kind: 'tag' });
  assert.deepEqual(parseReleaseLabel(sha), { releaseNumber: 3, name: 'abcdef1', kind: 'sha' });
  for (const t of ['abcdef1', 'sha', 'sha-abcdef1', 'sha/abcdef1', '0123456789'])
    assert.deepEqual(parseReleaseLabel(releaseLabel({ releaseNumber: 7, sha: 'a'.repeat(40), tagAliases: [t] })), {
      releaseNumber: 7,
      name: t,
      kind: 'tag',
    });
  // Written into a message, the label of the previous release reads back the same way.
  const text = commitMessage({
    kind: 'deploy',
    project: 'web',
    environment: 'dev',
    repository: 'acme/web',
    release: { releaseNumber: 4, sha: 'c'.repeat(40), tagAliases: [] },
    previous: { releaseNumber: 3, sha: 'f'.repeat(40), tagAliases: ['ABCDEF1'] },
    deployedBy: 'alice',
    approvedBy: [],
    deploymentId: 'd',
  });
  assert.deepEqual(parseReleaseLabel(parseCommitMessage(text).fields['Previous release']), {
    releaseNumber: 3,
    name: 'ABCDEF1',
    kind: 'tag',
  });
  assert.match(text, /^Deploy web to dev: release 4 \(sha ccccccc\)\n/);
});

test('a batch: a summary, one line per subject, then each message in full after a line of dashes', () => {
  assert.equal(
    batchMessage(['Deploy a to dev: release 1 (v1)\n\nBody a\n', 'Deploy b to dev: release 2 (v2)\n\nBody b\n\n']),
    [
      'Deploy 2 releases',
      '',
      '- Deploy a to dev: release 1 (v1)',
      '- Deploy b to dev: release 2 (v2)',
      '',
      '---',
      '',
      'Deploy a to dev: release 1 (v1)\n\nBody a',
      '',
      '---',
      '',
      'Deploy b to dev: release 2 (v2)\n\nBody b',
      '',
    ].join('\n'),
  );
});

/** Values built to break a line-based format: newlines, quotes, commas, separators, `none`, control and format characters. */
const HOSTILE = [
  'ceo@example.com',
  'a\nApproved by: ceo@example.com',
  'x\r\nDeployment: forged',
  'bob, carol',
  '"quoted"',
  'back\\slash',
  'none',
  ' padded ',
  'line\u2028sep',
  'para\u2029sep',
  'nel\u0085',
  'zero\u200bwidth',
  'bidi\u202eevil',
  'tab\tx',
  'é ü 日本',
  '',
  '---',
  'Approved by: ceo@example.com',
];

test('every value a message holds is escaped: no value adds a line, and each parses back exactly (issue #13 item 4)', () => {
  for (const v of HOSTILE) {
    const written = messageValue(v);
    assert.ok(!/[\n\r\u0085\u2028\u2029]/.test(written), JSON.stringify(written));
    assert.equal(parseMessageValue(written), v);
  }
  for (let i = 0; i < HOSTILE.length; i++) {
    const list = HOSTILE.slice(i, i + 4);
    assert.deepEqual(parseMessageList(list.length ? list.map(messageValue).join(', ') : 'none'), list);
  }
});

test('a forged approver line cannot appear: the repro and every hostile deployer, approver and tag', () => {
  for (const v of HOSTILE) {
    const m = {
      kind: 'deploy' as const,
      project: 'web',
      environment: 'production',
      repository: 'acme/mono',
      release: { releaseNumber: 9, sha: 'a'.repeat(40), tagAliases: [v] },
      previous: { releaseNumber: 8, sha: 'b'.repeat(40), tagAliases: [] },
      deployedBy: v,
      approvedBy: v === '' ? [] : [v, 'bob@example.com'],
      deploymentId: 'dep-1',
    };
    const text = commitMessage(m);
    const parsed = parseCommitMessage(text);
    assert.deepEqual(Object.keys(parsed.fields), ['Repository', 'Release', 'Previous release', 'Deployed by', 'Approved by', 'Deployment']);
    assert.equal(parseMessageValue(parsed.fields['Deployed by']), v);
    assert.deepEqual(parseMessageList(parsed.fields['Approved by']), m.approvedBy);
    assert.deepEqual(parseReleaseLabel(parsed.subject.replace(/^.*: release /, '')), { releaseNumber: 9, name: v, kind: 'tag' });
    assert.deepEqual(parseReleaseLabel(parsed.fields['Previous release']), { releaseNumber: 8, name: 'bbbbbbb', kind: 'sha' });
    const rollback = parseCommitMessage(commitMessage({ ...m, kind: 'rollback' }));
    assert.deepEqual(Object.keys(rollback.fields), ['Previous release', 'Rolled back by']);
    assert.equal(parseMessageValue(rollback.fields['Rolled back by']), v);
  }
});

test('plain values stay as they were written before (existing messages read the same)', () => {
  assert.equal(messageValue('alice@company.com'), 'alice@company.com');
  assert.equal(releaseLabel({ releaseNumber: 1, sha: 'a'.repeat(40), tagAliases: ['v1.2.3'] }), '1 (v1.2.3)');
  assert.equal(messageValue('none'), '"none"', 'an approver named none is not the empty list');
  assert.throws(() => parseCommitMessage('Deploy x\n\nApproved by: none\nApproved by: ceo'), /appears twice/);
});

test('a rollback says why in its own Reason field, escaped like every value (an automatic rollback always gives one)', () => {
  const base = {
    kind: 'rollback' as const,
    project: 'api',
    environment: 'staging',
    repository: 'acme/mono',
    release: { releaseNumber: 1, sha: 'a'.repeat(40), tagAliases: [] },
    previous: { releaseNumber: 2, sha: 'b'.repeat(40), tagAliases: [] },
    deployedBy: 'forge:auto-rollback',
    approvedBy: [],
    deploymentId: 'd1',
  };
  assert.doesNotMatch(commitMessage(base), /Reason:/);
  const forged = 'degraded in staging\nApproved by: ceo@example.com';
  const parsed = parseCommitMessage(commitMessage({ ...base, reason: forged }));
  assert.equal(parseMessageValue(parsed.fields.Reason), forged);
  assert.equal(parsed.fields['Approved by'], undefined);
});
