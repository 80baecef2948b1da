/**
 * Unit tests of src/core/argocd-application.ts (issue 15): parsing an Argo CD Application (the
 * shape of Argo CD v3.6.0's API schema), matching it to a slot by source path, and the outcome
 * transitions; and of the platform config's `requires` and `auto_rollback`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  advanceOutcome,
  matchApplication,
  matchSlot,
  normalizeRepoUrl,
  type OutcomeTimes,
  parseApplication,
  sameRepository,
} from '../../src/core/argocd-application.js';
import { PlatformConfigError, parsePlatformConfig } from '../../src/core/platform-config.js';

const app = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'auth-staging', namespace: 'argocd', labels: { a: 'b' } },
  spec: { source: { repoURL: 'https://git/x.git', path: 'staging/apps/acme/mono/auth-service', targetRevision: 'HEAD' } },
  status: {
    sync: { status: 'Synced', revision: 'abc1234' },
    health: { status: 'Healthy' },
    operationState: { phase: 'Succeeded', finishedAt: '2026-11-30T10:00:05Z', syncResult: { revision: 'abc1234' } },
    reconciledAt: '2026-11-30T10:00:06+01:00',
    unknownFutureField: { x: 1 },
  },
};

test('parses the fields Forge reads, spelled as Argo CD spells them; times normalised to UTC', () => {
  const r = parseApplication(app);
  assert.ok(r.ok);
  assert.deepEqual(r.app, {
    name: 'auth-staging',
    namespace: 'argocd',
    paths: ['staging/apps/acme/mono/auth-service'],
    sources: [{ repoURL: 'https://git/x.git', path: 'staging/apps/acme/mono/auth-service', index: null }],
    syncRevisions: null,
    syncResultRevisions: null,
    syncStatus: 'Synced',
    syncRevision: 'abc1234',
    healthStatus: 'Healthy',
    operationPhase: 'Succeeded',
    operationFinishedAt: '2026-11-30T10:00:05.000Z',
    syncResultRevision: 'abc1234',
    reconciledAt: '2026-11-30T09:00:06.000Z',
  });
  // the REST API's answer carries no apiVersion/kind; a status-less new application is fine
  const bare = parseApplication({ metadata: { name: 'new' }, spec: { sources: [{ path: 'a' }, { repoURL: 'x' }, { path: 'b' }] } });
  assert.ok(bare.ok);
  assert.deepEqual([bare.app.paths, bare.app.syncStatus, bare.app.reconciledAt], [['a', 'b'], null, null]);
});

test('refuses what is not an Application, naming every problem', () => {
  const bad = (body: unknown) => {
    const r = parseApplication(body);
    assert.ok(!r.ok, JSON.stringify(body));
    return r.problems.map((p) => p.path);
  };
  assert.deepEqual(bad([]), ['(body)']);
  assert.deepEqual(bad(null), ['(body)']);
  assert.deepEqual(bad({ ...app, kind: 'Deployment' }), ['kind']);
  assert.deepEqual(bad({ ...app, apiVersion: 'v1' }), ['apiVersion']);
  assert.deepEqual(bad({ ...app, metadata: [] }), ['metadata', 'metadata.name']);
  assert.deepEqual(bad({ spec: {} }), ['metadata', 'metadata.name']);
  assert.deepEqual(bad({ ...app, spec: 'x', status: 1 }), ['spec', 'status']);
  assert.deepEqual(bad({ ...app, status: { sync: { status: 1, revision: [] }, health: 'Healthy' } }), [
    'status.health',
    'status.sync.status',
    'status.sync.revision',
  ]);
  assert.deepEqual(bad({ ...app, spec: { sources: [1] } }), ['spec.sources[0]']);
  assert.deepEqual(bad({ ...app, spec: { sources: Array(101).fill({}) } }), ['spec.sources']);
  assert.deepEqual(bad({ ...app, status: { reconciledAt: '2026-13-45' } }), ['status.reconciledAt']);
  assert.deepEqual(bad({ ...app, metadata: { name: 'x'.repeat(1025) } }), ['metadata.name']);
});

test('matches <env>/apps/<owner>/<name>/<project> of a configured environment, the first path that does', () => {
  const envs = ['dev', 'staging'];
  assert.deepEqual(matchSlot(['staging/apps/Acme/mono/auth'], envs), { environment: 'staging', repository: 'acme/mono', project: 'auth' });
  assert.deepEqual(matchSlot(['./dev/apps/a/b/c/'], envs), { environment: 'dev', repository: 'a/b', project: 'c' });
  assert.deepEqual(matchSlot(['charts/x', 'dev/apps/a/b/c'], envs), { environment: 'dev', repository: 'a/b', project: 'c' });
  for (const p of ['prod/apps/a/b/c', 'dev/apps/a/b', 'dev/apps/a/b/c/d', 'dev/infra/a/b/c', 'dev/apps/a/../c', 'dev/apps//b/c', ''])
    assert.equal(matchSlot([p], envs), undefined, p);
  assert.equal(matchSlot([], envs), undefined);
});

const empty: OutcomeTimes = {
  synced_at: null,
  healthy_at: null,
  degraded_at: null,
  sync_failed_at: null,
  healthy_since: null,
  healthy_longest_ms: 0,
};
const at = (s: number) => new Date(Date.UTC(2026, 10, 30, 10, 0, s)).toISOString();

test('outcome: synced, then healthy, each once; health counts only when our revision is Synced', () => {
  let o = empty;
  let r = advanceOutcome(o, { syncStatus: 'OutOfSync', healthStatus: 'Healthy', operationPhase: 'Running' }, true, true, at(1));
  assert.deepEqual(r.events, []);
  r = advanceOutcome(o, { syncStatus: 'Synced', healthStatus: 'Healthy', operationPhase: 'Succeeded' }, false, false, at(1));
  assert.deepEqual(r.events, [], 'not our revision');
  r = advanceOutcome(o, { syncStatus: 'Synced', healthStatus: 'Progressing', operationPhase: 'Succeeded' }, true, true, at(2));
  assert.deepEqual(r.events, ['synced']);
  o = r.outcome;
  r = advanceOutcome(o, { syncStatus: 'Synced', healthStatus: 'Healthy', operationPhase: 'Succeeded' }, true, true, at(3));
  assert.deepEqual(r.events, ['healthy']);
  o = r.outcome;
  assert.deepEqual([o.synced_at, o.healthy_at, o.healthy_since], [at(2), at(3), at(3)]);
  r = advanceOutcome(o, { syncStatus: 'Synced', healthStatus: 'Healthy', operationPhase: 'Succeeded' }, true, true, at(9));
  assert.deepEqual([r.events, r.outcome], [[], o]);
});

test('outcome: degraded and failed syncs once each; the healthy stretch closes and its length is kept', () => {
  const healthy = { ...empty, synced_at: at(0), healthy_at: at(1), healthy_since: at(1) };
  let r = advanceOutcome(healthy, { syncStatus: 'Synced', healthStatus: 'Degraded', operationPhase: 'Succeeded' }, true, true, at(11));
  assert.deepEqual(r.events, ['degraded']);
  assert.deepEqual([r.outcome.healthy_since, r.outcome.healthy_longest_ms], [null, 10_000]);
  r = advanceOutcome(r.outcome, { syncStatus: 'Synced', healthStatus: 'Degraded', operationPhase: 'Succeeded' }, true, true, at(12));
  assert.deepEqual(r.events, []);
  r = advanceOutcome(empty, { syncStatus: 'OutOfSync', healthStatus: 'Healthy', operationPhase: 'Failed' }, false, true, at(5));
  assert.deepEqual([r.events, r.outcome.sync_failed_at], [['sync_failed'], at(5)]);
  r = advanceOutcome(empty, { syncStatus: 'OutOfSync', healthStatus: 'Healthy', operationPhase: 'Error' }, false, false, at(5));
  assert.deepEqual(r.events, [], 'a failed sync of another revision is not ours');
});

const config = (policy: string) =>
  parsePlatformConfig(
    `environments:\n  staging:\n    promotion_policy:\n      allowed_triggers: [tag]\n  production:\n    promotion_policy:\n      allowed_triggers: [tag]\n${policy}`,
  );

test('platform config: requires and auto_rollback, and their mistakes with line numbers', () => {
  const ok = config(
    '      requires: [{ environment: staging, healthy_for: 1h30m }]\n      auto_rollback: { on: [degraded], within: 15m }\n',
  );
  assert.deepEqual(ok.environments[1].policy.requires, [{ environment: 'staging', healthyForMs: 5_400_000 }]);
  assert.deepEqual(ok.environments[1].policy.autoRollback, { on: ['degraded'], withinMs: 900_000 });
  assert.deepEqual(config('      auto_rollback: {}\n').environments[1].policy.autoRollback, {
    on: ['degraded', 'sync_failed'],
    withinMs: 900_000,
  });
  const problems = (policy: string) => {
    try {
      config(policy);
    } catch (err) {
      assert.ok(err instanceof PlatformConfigError);
      return err.problems.map((p) => `${p.line}: ${p.message}`);
    }
    assert.fail('accepted');
  };
  assert.match(
    problems('      requires: [{ environment: nowhere, healthy_for: 1h }]\n')[0],
    /^8: .*names "nowhere", which is not an environment/,
  );
  assert.match(problems('      requires: [{ environment: staging, healthy_for: soon }]\n')[0], /healthy_for must be a duration/);
  assert.match(problems('      requires: [{ environment: staging }]\n')[0], /needs both environment and healthy_for/);
  assert.match(problems('      requires: staging\n')[0], /requires must be a list/);
  assert.match(problems('      auto_rollback: { on: [crashed] }\n')[0], /unknown "crashed" in .*auto_rollback.on/);
  assert.match(problems('      auto_rollback: { within: 0s }\n')[0], /auto_rollback.within must be a duration/);
  assert.match(problems('      auto_rollback: { when: now }\n')[0], /unknown key "when"/);
});

test('repository URLs: the usual spellings of one repository are one; another owner, name, host or port is another', () => {
  const forge = 'https://git.example.com/acme/gitops.git';
  for (const same of [
    'https://git.example.com/acme/gitops',
    'https://git.example.com/acme/gitops/',
    'https://git.example.com/acme/gitops.git/',
    'https://GIT.Example.COM/acme/gitops.git',
    'https://git.example.com:443/acme/gitops.git',
    'https://ci:secret@git.example.com/acme/gitops.git',
    'http://git.example.com/acme/gitops.git',
    'ssh://git@git.example.com/acme/gitops.git',
    'ssh://git@git.example.com:22/acme/gitops',
    'git@git.example.com:acme/gitops.git',
    'git@git.example.com:acme/gitops',
    '  https://git.example.com/acme/gitops.git  ',
  ])
    assert.ok(sameRepository(same, forge), same);
  for (const other of [
    'https://git.example.com/acme/gitops-fork.git',
    'https://git.example.com/evil/gitops.git',
    'https://git.example.com/Acme/GitOps.git',
    'https://git.example.com:8443/acme/gitops.git',
    'https://git.example.org/acme/gitops.git',
    'https://git.example.com/acme/gitops.git/charts',
    'git@git.example.com:acme/gitops/charts',
    '/srv/acme/gitops.git',
    '',
  ])
    assert.ok(!sameRepository(other, forge), other);
  // local paths: as they are (a directory's .git is part of its name), apart from trailing slashes
  assert.equal(normalizeRepoUrl('/srv/gitops.git/'), 'file:/srv/gitops.git');
  assert.ok(sameRepository('file:///srv/gitops.git', '/srv/gitops.git'));
  assert.ok(!sameRepository('/srv/gitops', '/srv/gitops.git'));
});

test("matchApplication: the source in Forge's repository at a slot's path, with that source's revisions; else why not", () => {
  const envs = ['staging'];
  const repo = 'https://git.example.com/acme/gitops.git';
  const parsed = (body: unknown) => {
    const r = parseApplication(body);
    assert.ok(r.ok);
    return r.app;
  };
  const path = 'staging/apps/acme/mono/auth-service';
  // single source: status.sync.revision
  const single = matchApplication(parsed({ ...app, spec: { source: { repoURL: `${repo}/`, path } } }), envs, repo);
  assert.deepEqual(single, {
    slot: { environment: 'staging', repository: 'acme/mono', project: 'auth-service' },
    syncRevision: 'abc1234',
    syncResultRevision: 'abc1234',
  });
  // another repository at the same path: no
  assert.deepEqual(matchApplication(parsed({ ...app, spec: { source: { repoURL: 'https://git.example.com/x/y', path } } }), envs, repo), {
    slot: undefined,
    why: 'repository',
  });
  // Forge's repository, another path: no
  assert.deepEqual(matchApplication(parsed({ ...app, spec: { source: { repoURL: repo, path: 'platform/ingress' } } }), envs, repo), {
    slot: undefined,
    why: 'path',
  });
  // multi-source: the revisions of the matching source, from status.sync.revisions[i]
  const multi = parsed({
    ...app,
    spec: {
      sources: [
        { repoURL: 'https://git.example.com/platform/charts.git', path },
        { repoURL: 'git@git.example.com:acme/gitops.git', path },
      ],
    },
    status: {
      sync: { status: 'Synced', revisions: ['charts-rev', 'gitops-rev'] },
      operationState: { phase: 'Succeeded', syncResult: { revisions: ['charts-op', 'gitops-op'] } },
    },
  });
  assert.deepEqual(multi.syncRevisions, ['charts-rev', 'gitops-rev']);
  const m = matchApplication(multi, envs, repo);
  assert.deepEqual(
    [m.slot?.project, 'syncRevision' in m && m.syncRevision, 'syncResultRevision' in m && m.syncResultRevision],
    ['auth-service', 'gitops-rev', 'gitops-op'],
  );
  // revisions given as something else than a list of strings: a problem, never a guess
  const bad = parseApplication({ ...app, status: { sync: { revisions: 'abc' }, operationState: { syncResult: { revisions: [1] } } } });
  assert.ok(!bad.ok);
  assert.deepEqual(
    bad.problems.map((p) => p.path),
    ['status.sync.revisions', 'status.operationState.syncResult.revisions[0]'],
  );
});
