/**
 * Unit tests of src/core/commit-message.ts beyond test/gitops-pointer.test.ts (which checks the
 * deploy, rollback and batch messages in full): how a release is labelled and how a batch is laid out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchMessage, releaseLabel } from '../../src/core/commit-message.js';

test('a release is labelled by number and its first tag alias, else its short sha', () => {
  assert.equal(releaseLabel({ releaseNumber: 42, sha: '0123456789abcdef', tagAliases: ['v1.2.3', 'v1.2'] }), '42 (v1.2.3)');
  assert.equal(releaseLabel({ releaseNumber: 1, sha: '0123456789abcdef', tagAliases: [] }), '1 (0123456)');
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
