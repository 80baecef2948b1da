/** Unit tests of src/core/permissions.ts: which role allows which action (DESIGN.md §11). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Action, describeAction, isAllowed, ROLE_PATTERN } from '../../src/core/permissions.js';

const ACTIONS: Action[] = [
  { kind: 'read' },
  { kind: 'release:create' },
  { kind: 'deploy', environment: 'staging' },
  { kind: 'deploy', environment: 'production' },
  { kind: 'approve', environment: 'staging' },
  { kind: 'approve', environment: 'production' },
  { kind: 'admin' },
];
const name = (a: Action) => ('environment' in a ? `${a.kind} ${a.environment}` : a.kind);

/** The whole matrix: for each role set, the actions it allows. */
const MATRIX: [string[], string[]][] = [
  [[], []],
  [['developer'], ['read']],
  [['service-account'], ['read', 'release:create']],
  [['deployer:staging'], ['read', 'deploy staging']],
  [['approver:production'], ['read', 'approve production']],
  [['operator'], ['read', 'deploy staging', 'deploy production', 'approve staging', 'approve production', 'admin']],
  [
    ['deployer:staging', 'approver:staging'],
    ['read', 'deploy staging', 'approve staging'],
  ],
];

test('each role allows exactly its actions, and environment roles only their environment', () => {
  for (const [roles, allowed] of MATRIX) {
    const got = ACTIONS.filter((a) => isAllowed({ subject: 's', roles }, a)).map(name);
    assert.deepEqual(got, allowed, `roles ${JSON.stringify(roles)}`);
  }
});

test('an unknown role still counts as authenticated for reading, and nothing more', () => {
  assert.deepEqual(ACTIONS.filter((a) => isAllowed({ subject: 's', roles: ['deployer:*'] }, a)).map(name), ['read']);
});

test('refusals name the role that would have allowed the action', () => {
  assert.deepEqual(ACTIONS.map(describeAction), [
    'any role',
    'the service-account role',
    'the deployer:staging or operator role',
    'the deployer:production or operator role',
    'the approver:staging or operator role',
    'the approver:production or operator role',
    'the operator role',
  ]);
});

test('the role pattern admits the five role shapes with DNS-label environments', () => {
  for (const ok of ['service-account', 'developer', 'operator', 'deployer:staging', 'approver:prod-eu-1'])
    assert.ok(ROLE_PATTERN.test(ok), ok);
  for (const bad of ['admin', 'deployer', 'deployer:', 'deployer:Prod', 'approver:-x', 'operator:staging', 'developer '])
    assert.ok(!ROLE_PATTERN.test(bad), bad);
});
