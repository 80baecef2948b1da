/** The pure part of release trains (src/core/train.ts): request checks, CLI member arguments, the commit message, member comparison. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { PlatformConfigError, parsePlatformConfig } from '../src/core/platform-config.js';
import { checkTrainRequest, compareMembers, parseMemberArgument, trainCommitMessage, trainNameProblem } from '../src/core/train.js';

const m = (project: string, release = '1', repository = 'Acme/Mono') => ({ repository, project, release });

test('checkTrainRequest names every bad field by its member and lower-cases repositories', () => {
  assert.deepEqual(checkTrainRequest({ name: 'ok', members: [m('api')] }, 5), [{ repository: 'acme/mono', project: 'api', release: '1' }]);
  const fields = (body: Record<string, unknown>, max = 5) => {
    try {
      checkTrainRequest(body, max);
    } catch (err) {
      assert.ok(err instanceof ForgeError);
      assert.equal(err.status, 400);
      return (err.details!.fields as { path: string }[]).map((f) => f.path);
    }
    assert.fail('expected a 400');
  };
  assert.deepEqual(fields({ name: 'Bad Name', members: [m('api'), m('Web_1'), m('jobs', '')] }), [
    'name',
    'members[1].project',
    'members[2].release',
  ]);
  assert.deepEqual(fields({ name: 'x', members: [m('api'), m('web'), m('api', '2', 'acme/mono')] }), ['members[2]']);
  assert.deepEqual(fields({ name: 'x', members: [m('a'), m('b'), m('c')] }, 2), ['members[2]']);
  assert.deepEqual(fields({ name: 'x', members: [] }), ['members']);
  assert.deepEqual(fields({ name: 'x', members: [m('api', '1', 'no-slash')] }), ['members[0].repository']);
});

test('a train name is not an id', () => {
  assert.equal(trainNameProblem('spring-2026.1'), undefined);
  assert.match(trainNameProblem('0b5d1c1e-7f34-4c55-9a8e-5d7c3a9e2f10')!, /looks like an id/);
  assert.match(trainNameProblem('-x')!, /not a train name/);
});

test('forge train create arguments: PROJECT=REF takes the current repository, OWNER/NAME/PROJECT=REF its own', () => {
  assert.deepEqual(parseMemberArgument('api=v1.2.0', 'acme/mono'), { repository: 'acme/mono', project: 'api', release: 'v1.2.0' });
  assert.deepEqual(parseMemberArgument('Acme/Web/app=a=b', undefined), { repository: 'acme/web', project: 'app', release: 'a=b' });
  assert.throws(() => parseMemberArgument('api=1', undefined), /names no repository/);
  assert.throws(() => parseMemberArgument('api', 'acme/mono'), /expected PROJECT=RELEASE/);
  assert.throws(() => parseMemberArgument('a/b=1', 'acme/mono'), /expected PROJECT=RELEASE or OWNER\/NAME\/PROJECT=RELEASE/);
});

test('the commit message lists every member with its release and the one it replaces; a value never adds a line', () => {
  const message = trainCommitMessage({
    kind: 'deploy',
    train: 'spring',
    trainDeploymentId: 'td-1',
    environment: 'staging',
    actor: 'alice@acme.test',
    reason: 'line one\nForged-Trailer: yes',
    members: [
      {
        repository: 'acme/mono',
        project: 'api',
        release: { releaseNumber: 2, sha: 'b'.repeat(40), tagAliases: ['v2'] },
        previous: { releaseNumber: 1, sha: 'a'.repeat(40), tagAliases: [] },
        deploymentId: 'd-1',
      },
      {
        repository: 'acme/mono',
        project: 'web',
        release: { releaseNumber: 7, sha: 'c'.repeat(40), tagAliases: [] },
        previous: null,
        deploymentId: 'd-2',
      },
    ],
  });
  assert.equal(
    message,
    [
      'Deploy train spring to staging (2 projects)',
      '',
      '- acme/mono/api: release 2 (v2) (previous: 1 (sha aaaaaaa); deployment d-1)',
      '- acme/mono/web: release 7 (sha ccccccc) (previous: none; deployment d-2)',
      '',
      'Train: spring',
      'Train deployment: td-1',
      'Deployed by: alice@acme.test',
      'Reason: "line one\\nForged-Trailer: yes"',
      '',
    ].join('\n'),
  );
});

test('compareMembers: added, removed, changed and unchanged, by project', () => {
  const x = (project: string, release_id: string) => ({ repository: 'acme/mono', project, release_id });
  assert.deepEqual(
    compareMembers([x('api', 'r1'), x('web', 'w1'), x('old', 'o1')], [x('web', 'w2'), x('api', 'r1'), x('new', 'n1')]).map((c) => [
      c.project,
      c.change,
    ]),
    [
      ['api', 'unchanged'],
      ['new', 'added'],
      ['old', 'removed'],
      ['web', 'changed'],
    ],
  );
});

test('trains.max_members in the platform config: a whole number from 1 to 10000, nothing else under trains', () => {
  const env = 'environments:\n  dev: { promotion_policy: { allowed_triggers: [manual] } }\n';
  assert.deepEqual(parsePlatformConfig(`${env}trains:\n  max_members: 50\n`).trains, { maxMembers: 50 });
  assert.equal(parsePlatformConfig(env).trains, undefined);
  assert.throws(
    () => parsePlatformConfig(`${env}trains:\n  max_members: 0\n`),
    (e: unknown) => e instanceof PlatformConfigError && /trains\.max_members must be a whole number/.test(e.message),
  );
  assert.throws(() => parsePlatformConfig(`${env}trains:\n  max: 5\n`), /unknown key "max" in trains/);
});
