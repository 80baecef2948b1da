/**
 * Issue 15 against a stand-in Argo CD (test/support/argocd.ts): Applications shaped field by
 * field after Argo CD v3.6.0's published API schema, served over its HTTP contract and posted
 * exactly as the shipped notifications template renders them. Not a live Argo CD.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type AppState, application, notify, shippedNotifications, startArgocd } from './support/argocd.js';
import { eventually } from './support/eventually.js';
import { type Forge, releaseBody, sha, startForge, tempDir } from './support/forge.js';
import { commitOutside, git, makeRemote } from './support/gitops.js';

const CONFIG = `
environments:
  dev:
    promotion_policy:
      allowed_triggers: [branch_push, tag, manual]
      auto_deploy: true
      auto_rollback: { on: [degraded, sync_failed], within: 15m }
  qa:
    promotion_policy:
      allowed_triggers: [branch_push, tag, manual]
      auto_deploy: true
      requires: [{ environment: dev, healthy_for: 2s }]
  staging:
    promotion_policy:
      allowed_triggers: [branch_push, tag, manual]
      auto_rollback: { on: [degraded], within: 1s }
  production:
    promotion_policy:
      allowed_triggers: [branch_push, tag, manual]
      requires: [{ environment: staging, healthy_for: 1h }]
`;

interface Setup {
  f: Forge;
  remote: string;
  ci: string;
  ops: string;
  argo: string;
  dev: string;
}

async function setup(t: { after(fn: () => unknown): void }, env: Record<string, string> = {}): Promise<Setup> {
  const repo = makeRemote({ 'README.md': 'gitops\n' });
  t.after(repo.cleanup);
  const dir = tempDir();
  const config = join(dir, 'forge.yaml');
  writeFileSync(config, CONFIG);
  const f = await startForge({ env: { FORGE_GITOPS_URL: repo.remote, FORGE_CONFIG: config, FORGE_ARGOCD_POLL_MS: '100', ...env } });
  t.after(() => f.stop());
  return {
    f,
    remote: repo.remote,
    ci: await f.token(['service-account'], 'ci'),
    ops: await f.token(['operator'], 'olga@acme.test'),
    argo: await f.token(['integration:argocd'], 'argocd-notifications@cluster-a'),
    dev: await f.token(['developer'], 'dan@acme.test'),
  };
}

async function release(s: Setup, n: number) {
  const r = await s.f.api('POST', '/releases', releaseBody({}, sha(n)), s.ci);
  assert.ok(r.status === 201 || r.status === 200, r.text);
  return r.body;
}

async function deploy(s: Setup, environment: string, rel: string, project = 'auth-service') {
  const r = await s.f.api('POST', '/deployments', { repository: 'acme/mono', project, environment, release: rel }, s.ops);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

const current = async (s: Setup, env: string) =>
  (await s.f.api('GET', `/deployments/${env}/acme/mono/auth-service`, undefined, s.dev)).body;
const app = (s: Setup, env: string, over: Partial<AppState>): AppState => ({
  name: `auth-service-${env}`,
  path: `${env}/apps/acme/mono/auth-service`,
  repoURL: s.remote,
  sync: 'Synced',
  revision: '',
  health: 'Progressing',
  phase: 'Succeeded',
  ...over,
});
const post = (s: Setup, a: AppState) => notify({ 'forge-url': s.f.url, 'forge-argocd-token': s.argo }, application(a, true));

test('notifications alone: committed → synced → healthy; older revisions and other paths ignored; a later commit with the same pointer counts', async (t) => {
  const s = await setup(t);
  await release(s, 1);
  await release(s, 2);
  const d1 = await deploy(s, 'staging', '1');

  const synced = await post(s, app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Progressing' }));
  assert.equal(synced.status, 200, synced.text);
  assert.deepEqual(
    [
      synced.body.matched,
      synced.body.environment,
      synced.body.repository,
      synced.body.project,
      synced.body.deployment_id,
      synced.body.events,
    ],
    [true, 'staging', 'acme/mono', 'auth-service', d1.id, ['deployment.synced']],
  );
  let c = await current(s, 'staging');
  assert.deepEqual(
    [c.cluster.sync_status, c.cluster.health_status, c.cluster.revision, c.cluster.revision_is_deployment],
    ['Synced', 'Progressing', d1.gitops_commit_sha, true],
  );
  assert.ok(c.timeline.synced_at && !c.timeline.healthy_at);
  assert.equal(c.timeline.committed_at, d1.finished_at);

  const healthy = await post(s, app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Healthy' }));
  assert.deepEqual(healthy.body.events, ['deployment.healthy']);
  // the same again: nothing new
  assert.deepEqual((await post(s, app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Healthy' }))).body.events, []);
  c = await current(s, 'staging');
  assert.ok(Date.parse(c.timeline.committed_at) <= Date.parse(c.timeline.synced_at));
  assert.ok(Date.parse(c.timeline.synced_at) <= Date.parse(c.timeline.healthy_at));

  // release 2 goes out; until Argo CD reports on it, its read shows no cluster view at all:
  // release 1's Synced/Healthy is not release 2's (nor in the matrix cell)
  const d2 = await deploy(s, 'staging', '2');
  c = await current(s, 'staging');
  assert.deepEqual([c.id, c.cluster], [d2.id, null]);
  const cellOf = async () =>
    (await s.f.api('GET', '/environments', undefined, s.dev)).body.items
      .find((e: { name: string }) => e.name === 'staging')
      .deployments.find((d: { project: string }) => d.project === 'auth-service');
  assert.equal((await cellOf()).cluster, null);
  // a sync of the older revision (release 1's commit) does not count for it: the read shows
  // that revision as not this deployment's, and no sync or health (those are release 1's)
  const old = await post(s, app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Healthy' }));
  assert.equal(old.status, 200);
  assert.deepEqual([old.body.deployment_id, old.body.events], [d2.id, []]);
  assert.match(old.body.note, /not this deployment's/);
  c = await current(s, 'staging');
  assert.deepEqual([c.timeline.synced_at, c.timeline.healthy_at, c.cluster.revision_is_deployment], [null, null, false]);
  assert.deepEqual(
    [c.cluster.deployment_id, c.cluster.revision, c.cluster.sync_status, c.cluster.health_status],
    [d2.id, d1.gitops_commit_sha, null, null],
  );

  // an application of another path (unknown environment, not Forge's layout) matches nothing
  for (const path of [
    'elsewhere/apps/acme/mono/auth-service',
    'staging/apps/acme/mono',
    'staging/infra/acme/mono/auth-service',
    'staging/apps/acme/mono/auth-service/../x',
  ]) {
    const other = await post(s, app(s, 'staging', { name: 'other', path, revision: d2.gitops_commit_sha, health: 'Healthy' }));
    assert.equal(other.status, 200, other.text);
    assert.deepEqual([other.body.matched, other.body.events], [false, []], path);
  }
  assert.equal((await current(s, 'staging')).timeline.synced_at, null);

  // a later commit that leaves this pointer alone (another project deployed; an outside commit) is still release 2's
  await release(s, 3);
  const rel = await s.f.api('POST', '/releases', releaseBody({ project: 'billing' }, sha(9)), s.ci);
  assert.equal(rel.status, 201, rel.text);
  await deploy(s, 'staging', '1', 'billing');
  const later = commitOutside(s.remote, { 'docs/notes.md': 'unrelated\n' }, 'unrelated change');
  assert.ok(git(s.remote, 'merge-base', '--is-ancestor', d2.gitops_commit_sha, later) === '');
  const laterSync = await post(s, app(s, 'staging', { revision: later, health: 'Healthy' }));
  assert.deepEqual(laterSync.body.events, ['deployment.synced', 'deployment.healthy']);
  // a revision unknown to the GitOps repository never counts
  const bogus = await post(s, app(s, 'staging', { revision: 'f'.repeat(40), health: 'Degraded' }));
  assert.deepEqual(bogus.body.events, []);

  // the events are in the audit log, CDEvents-shaped
  const audit = await s.f.api('GET', '/audit?limit=200', undefined, s.ops);
  const events = audit.body.items.filter((e: { action: string }) => /^deployment\.(synced|healthy)$/.test(e.action));
  assert.equal(events.length, 4);
  const syncedEvent = events.find((e: { action: string; subject: string }) => e.action === 'deployment.synced' && e.subject === d1.id);
  // the actor is the posting token's subject, not its role
  assert.equal(syncedEvent.actor, 'argocd-notifications@cluster-a');
  assert.equal(syncedEvent.details.cdevent.context.type, 'dev.cdevents.service.deployed.0.2.0');
  assert.deepEqual(syncedEvent.details.cdevent.subject.content.environment, { id: 'staging', source: 'forge' });

  // the commit→synced and synced→healthy histograms
  const metrics = await s.f.api('GET', '/metrics');
  assert.match(metrics.text, /forge_deployment_commit_to_synced_seconds_count\{environment="staging"\} 2/);
  assert.match(metrics.text, /forge_deployment_synced_to_healthy_seconds_count\{environment="staging"\} 2/);
  assert.match(metrics.text, /forge_argocd_unmatched_applications_total\{source="notification"\} 4/);

  // the matrix shows the cluster's view per cell
  const envs = await s.f.api('GET', '/environments', undefined, s.dev);
  const cell = envs.body.items
    .find((e: { name: string }) => e.name === 'staging')
    .deployments.find((d: { project: string }) => d.project === 'auth-service');
  // (Argo CD's latest report is of a revision that is not this deployment's: its health is not shown as this deployment's)
  assert.deepEqual(
    [cell.cluster.sync_status, cell.cluster.health_status, cell.cluster.revision, cell.cluster.revision_is_deployment],
    [null, null, 'f'.repeat(40), false],
  );
});

test('a late notification (older reconciledAt) changes nothing; a multi-source application matches on spec.sources[].path', async (t) => {
  const s = await setup(t);
  await release(s, 1);
  const d1 = await deploy(s, 'staging', '1');
  const newer = await post(
    s,
    app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Healthy', reconciledAt: '2026-01-01T00:00:10Z' }),
  );
  assert.deepEqual(newer.body.events, ['deployment.synced', 'deployment.healthy']);
  const late = await post(
    s,
    app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Degraded', reconciledAt: '2026-01-01T00:00:05Z' }),
  );
  assert.deepEqual(late.body.events, []);
  assert.match(late.body.note, /older observation/);
  assert.equal((await current(s, 'staging')).cluster.health_status, 'Healthy');

  await release(s, 2);
  const d2 = await deploy(s, 'staging', '2');
  const multi = await post(
    s,
    app(s, 'staging', {
      path: 'charts/common',
      sources: ['staging/apps/acme/mono/auth-service'],
      revision: d2.gitops_commit_sha,
      health: 'Healthy',
      reconciledAt: '2026-01-01T00:01:00Z',
    }),
  );
  assert.deepEqual(
    [multi.body.matched, multi.body.deployment_id, multi.body.events],
    [true, d2.id, ['deployment.synced', 'deployment.healthy']],
  );

  // A report dated in the future (clock skew, or a forged one) counts as now: it cannot silence
  // the slot, and a new deployment's reports are never "older" than the previous deployment's.
  const future = await post(
    s,
    app(s, 'staging', { revision: d2.gitops_commit_sha, health: 'Degraded', reconciledAt: '2099-01-01T00:00:00Z' }),
  );
  assert.deepEqual(future.body.events, ['deployment.degraded']);
  const later = await post(s, app(s, 'staging', { revision: d2.gitops_commit_sha, health: 'Healthy' }));
  assert.equal(later.status, 200, later.text);
  assert.doesNotMatch(later.body.note ?? '', /older observation/);
  assert.equal((await current(s, 'staging')).cluster.health_status, 'Healthy');
});

test('polling alone: a stand-in Argo CD API is polled; committed → synced → healthy; other repositories and paths ignored; Argo CD down is tolerated', async (t) => {
  const argocd = await startArgocd();
  t.after(() => argocd.stop());
  const s = await setup(t, { FORGE_ARGOCD_URL: argocd.url, FORGE_ARGOCD_TOKEN: argocd.token });
  await release(s, 1);
  const d1 = await deploy(s, 'staging', '1');
  argocd.apps.set('auth-service-staging', app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Progressing' }));
  // another repository's application with the same path, and an application of another path
  argocd.apps.set('foreign', {
    ...app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Degraded' }),
    name: 'foreign',
    repoURL: 'https://git.example.com/other.git',
  });
  argocd.apps.set(
    'infra',
    app(s, 'staging', { name: 'infra', path: 'platform/ingress', revision: d1.gitops_commit_sha, health: 'Degraded' }),
  );

  const synced = await eventually('synced from the poll', async () => {
    const c = await current(s, 'staging');
    return c.timeline.synced_at ? c : undefined;
  });
  assert.equal(synced.timeline.healthy_at, null);
  assert.equal(synced.cluster.health_status, 'Progressing');
  // Forge filters by repository itself (Argo CD's `repo` query compares one spelling of the first source only)
  assert.ok(
    argocd.requests.some((r) => r === '/api/v1/applications'),
    argocd.requests[0],
  );

  // Argo CD goes down for a while: the server keeps answering; once it is back, the poll catches up
  argocd.failWith = 503;
  const seen = argocd.requests.length;
  await eventually('polls while Argo CD is down', () => argocd.requests.length > seen + 2);
  assert.equal((await s.f.api('GET', '/healthz')).status, 200);
  argocd.apps.set('auth-service-staging', app(s, 'staging', { revision: d1.gitops_commit_sha, health: 'Healthy' }));
  argocd.failWith = undefined;
  const healthy = await eventually('healthy from the poll', async () => {
    const c = await current(s, 'staging');
    return c.timeline.healthy_at ? c : undefined;
  });
  assert.deepEqual([healthy.cluster.sync_status, healthy.cluster.health_status, healthy.timeline.degraded_at], ['Synced', 'Healthy', null]);
  const metrics = (await s.f.api('GET', '/metrics')).text;
  assert.match(metrics, /forge_argocd_polls_total\{outcome="unavailable"\} [1-9]/);
  assert.match(metrics, /forge_argocd_unmatched_applications_total\{source="poll"\} [1-9]/);
  // the poll never recorded the foreign application's Degraded
  const audit = await s.f.api('GET', '/audit?limit=200', undefined, s.ops);
  assert.equal(audit.body.items.filter((e: { action: string }) => e.action === 'deployment.degraded').length, 0);
});

test("only Applications of Forge's GitOps repository count (FORGE_ARGOCD_REPO_URL, spelled any usual way); another repository, another path or an unknown project is matched: false and counted", async (t) => {
  const s = await setup(t, { FORGE_ARGOCD_REPO_URL: 'https://Git.Example.com/acme/gitops.git' });
  await release(s, 1);
  const d1 = await deploy(s, 'staging', '1');
  // (the counter is the process's: other tests of this file ran servers in this process too)
  const countNow = async () =>
    Number(
      /forge_argocd_unmatched_applications_total\{source="notification"\} (\d+)/.exec((await s.f.api('GET', '/metrics')).text)?.[1] ?? 0,
    );
  const before = await countNow();
  const unmatchedCount = async () => (await countNow()) - before;

  // another GitOps repository whose path is one of Forge's slots: ignored, counted; nothing recorded
  for (const repoURL of [
    'https://git.example.com/evil/gitops.git',
    'https://git.example.com/acme/gitops-fork.git',
    'https://git.example.com:8443/acme/gitops.git',
    s.remote, // FORGE_GITOPS_URL is not what Argo CD uses here: FORGE_ARGOCD_REPO_URL says so
  ]) {
    const foreign = await post(s, app(s, 'staging', { name: 'foreign', repoURL, revision: d1.gitops_commit_sha, health: 'Degraded' }));
    assert.equal(foreign.status, 200, foreign.text);
    assert.deepEqual([foreign.body.matched, foreign.body.events, foreign.body.deployment_id], [false, [], undefined], repoURL);
    assert.match(foreign.body.note, /no source is Forge's GitOps repository/);
  }
  assert.equal(await unmatchedCount(), 4);
  let c = await current(s, 'staging');
  assert.deepEqual([c.cluster, c.timeline.synced_at, c.timeline.degraded_at], [null, null, null]);

  // a project Forge has no release of, at a well-formed path of Forge's repository: not matched, counted
  const ghost = await post(
    s,
    app(s, 'staging', {
      name: 'ghost',
      path: 'staging/apps/acme/mono/ghost',
      repoURL: 'https://git.example.com/acme/gitops',
      revision: d1.gitops_commit_sha,
    }),
  );
  assert.deepEqual([ghost.body.matched, ghost.body.events], [false, []]);
  assert.match(ghost.body.note, /no release of acme\/mono\/ghost/);
  assert.equal(await unmatchedCount(), 5);

  // Forge's repository spelled as ssh (scp form), with a trailing slash or another host case: matched
  const ssh = await post(
    s,
    app(s, 'staging', { repoURL: 'git@git.example.com:acme/gitops', revision: d1.gitops_commit_sha, health: 'Progressing' }),
  );
  assert.deepEqual([ssh.body.matched, ssh.body.deployment_id, ssh.body.events], [true, d1.id, ['deployment.synced']]);
  const slash = await post(
    s,
    app(s, 'staging', { repoURL: 'https://GIT.example.com/acme/gitops/', revision: d1.gitops_commit_sha, health: 'Healthy' }),
  );
  assert.deepEqual([slash.body.matched, slash.body.events], [true, ['deployment.healthy']]);
  assert.equal(await unmatchedCount(), 5);
  c = await current(s, 'staging');
  assert.deepEqual([c.cluster.sync_status, c.cluster.health_status, c.timeline.degraded_at], ['Synced', 'Healthy', null]);
});

test("a multi-source Application: the revision is that of the source in Forge's repository (status.sync.revisions[i]), not another source's", async (t) => {
  const s = await setup(t);
  await release(s, 1);
  const d1 = await deploy(s, 'staging', '1');
  const chartsRevision = 'c'.repeat(40);
  // As Argo CD reports a multi-source Application: spec.sources, status.sync.revisions (one per
  // source, in order) and no status.sync.revision; likewise the operation's syncResult.revisions.
  const multi = (health: AppState['health'], ourRevision: string) => {
    const a = application(app(s, 'staging', { revision: ourRevision, health }), true) as any;
    const ours = a.spec.source;
    delete a.spec.source;
    a.spec.sources = [
      { repoURL: 'https://git.example.com/platform/charts.git', path: 'staging/apps/acme/mono/auth-service', targetRevision: 'main' },
      ours,
    ];
    delete a.status.sync.revision;
    a.status.sync.revisions = [chartsRevision, ourRevision];
    a.status.operationState.syncResult.revisions = [chartsRevision, ourRevision];
    delete a.status.operationState.syncResult.revision;
    return a;
  };
  const first = await notify({ 'forge-url': s.f.url, 'forge-argocd-token': s.argo }, multi('Healthy', d1.gitops_commit_sha));
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(
    [first.body.matched, first.body.deployment_id, first.body.events],
    [true, d1.id, ['deployment.synced', 'deployment.healthy']],
  );
  const c = await current(s, 'staging');
  assert.deepEqual([c.cluster.revision, c.cluster.revision_is_deployment], [d1.gitops_commit_sha, true]);
  // the other source moving on (its revision is not a commit of Forge's repository) changes nothing;
  // Forge's source at a revision that is not this deployment's does not count either
  const other = await notify({ 'forge-url': s.f.url, 'forge-argocd-token': s.argo }, multi('Degraded', 'f'.repeat(40)));
  assert.deepEqual([other.body.matched, other.body.events], [true, []]);
  assert.match(other.body.note, /not this deployment's/);
});

test("polling: Applications of another repository are ignored even when Argo CD lists them; Forge's repository under another spelling counts", async (t) => {
  const argocd = await startArgocd();
  t.after(() => argocd.stop());
  const s = await setup(t, {
    FORGE_ARGOCD_URL: argocd.url,
    FORGE_ARGOCD_TOKEN: argocd.token,
    FORGE_ARGOCD_REPO_URL: 'https://git.example.com/acme/gitops.git',
  });
  await release(s, 1);
  const d1 = await deploy(s, 'staging', '1');
  argocd.apps.set(
    'foreign',
    app(s, 'staging', {
      name: 'foreign',
      repoURL: 'https://git.example.com/other/gitops.git',
      revision: d1.gitops_commit_sha,
      health: 'Degraded',
    }),
  );
  argocd.apps.set(
    'ours',
    app(s, 'staging', {
      name: 'ours',
      repoURL: 'ssh://git@git.example.com/acme/gitops',
      revision: d1.gitops_commit_sha,
      health: 'Healthy',
    }),
  );
  const healthy = await eventually('healthy from the poll', async () => {
    const c = await current(s, 'staging');
    return c.timeline.healthy_at ? c : undefined;
  });
  assert.deepEqual([healthy.cluster.health_status, healthy.timeline.degraded_at], ['Healthy', null]);
  await eventually('the foreign application counted as unknown', async () =>
    /forge_argocd_unmatched_applications_total\{source="poll"\} [1-9]/.test((await s.f.api('GET', '/metrics')).text),
  );
  const audit = await s.f.api('GET', '/audit?limit=200', undefined, s.ops);
  const items = audit.body.items as { action: string; actor: string }[];
  assert.equal(items.filter((e) => e.action === 'deployment.degraded').length, 0);
  // events a poll recorded carry the poll as their actor
  assert.deepEqual(
    items.filter((e) => e.action === 'deployment.healthy').map((e) => e.actor),
    ['forge:argocd-poll'],
  );
});

test('the shipped notifications config posts the Application with {{toJson .app}} to the integration endpoint, for sync, health, degradation and failed syncs', () => {
  const { template, service, triggers } = shippedNotifications();
  assert.equal(template.method, 'POST');
  assert.equal(template.path, '/api/v1/integrations/argocd');
  assert.equal(template.body, '{{toJson .app}}\n');
  assert.deepEqual(service.headers.map((h) => h.name).sort(), ['Authorization', 'Content-Type']);
  assert.deepEqual(triggers.sort(), [
    'trigger.forge-on-degraded',
    'trigger.forge-on-healthy',
    'trigger.forge-on-sync-failed',
    'trigger.forge-on-synced',
  ]);
});

test('settings: FORGE_ARGOCD_URL must be an http(s) URL; the token from FORGE_ARGOCD_TOKEN or its _FILE; the poll period a positive number', async () => {
  const { loadSettings } = await import('../src/server/settings.js');
  const dir = tempDir();
  const tokenFile = join(dir, 'argocd-token');
  writeFileSync(tokenFile, 'from-file\n');
  const s = loadSettings(
    { dataDir: dir },
    { FORGE_ARGOCD_URL: 'https://argocd.example.com/', FORGE_ARGOCD_TOKEN_FILE: tokenFile, FORGE_ARGOCD_POLL_MS: '5000' },
  );
  assert.deepEqual(
    [s.argocd.url, s.argocd.token, s.argocd.pollMs, s.argocd.timeoutMs],
    ['https://argocd.example.com', 'from-file', 5000, 10_000],
  );
  assert.equal(loadSettings({ dataDir: dir }, {}).argocd.url, undefined);
  // the repository Argo CD's Applications must name: FORGE_ARGOCD_REPO_URL, else FORGE_GITOPS_URL, else the embedded one's path
  assert.equal(
    loadSettings({ dataDir: dir }, { FORGE_ARGOCD_REPO_URL: ' https://git.example.com/g.git ', FORGE_GITOPS_URL: '/srv/g.git' }).argocd
      .repoUrl,
    'https://git.example.com/g.git',
  );
  assert.equal(loadSettings({ dataDir: dir }, { FORGE_GITOPS_URL: '/srv/g.git' }).argocd.repoUrl, '/srv/g.git');
  assert.equal(loadSettings({ dataDir: dir }, {}).argocd.repoUrl, join(dir, 'gitops.git'));
  assert.throws(
    () => loadSettings({ dataDir: dir }, { FORGE_ARGOCD_URL: 'argocd:443' }),
    /FORGE_ARGOCD_URL is not a http:\/\/ or a https:\/\/ URL \(the value is not shown: it may hold a password\); expected the URL of Argo CD/,
  );
  assert.throws(() => loadSettings({ dataDir: dir }, { FORGE_ARGOCD_POLL_MS: '0' }), /FORGE_ARGOCD_POLL_MS is "0"/);
  assert.throws(() => loadSettings({ dataDir: dir }, { FORGE_ARGOCD_TOKEN_FILE: join(dir, 'missing') }), /FORGE_ARGOCD_TOKEN_FILE names/);
});
