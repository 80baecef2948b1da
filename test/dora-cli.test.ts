/**
 * `forge metrics` (DORA, issue 15) and `forge status` showing Argo CD's sync/health and drift,
 * against a real server; Argo CD is the stand-in of test/support/argocd.ts (v3.6.0 API schema),
 * not a live one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { application, notify } from './support/argocd.js';
import { releaseBody, runCli, sha, startForge } from './support/forge.js';
import { makeRemote } from './support/gitops.js';

test('forge metrics and forge status with the cluster view and drift', async (t) => {
  const repo = makeRemote({ 'README.md': 'gitops\n' });
  t.after(repo.cleanup);
  const f = await startForge({ env: { FORGE_GITOPS_URL: repo.remote } });
  t.after(() => f.stop());
  const ci = await f.token(['service-account'], 'ci');
  const ops = await f.token(['operator'], 'olga@acme.test');
  const argo = await f.token(['integration:argocd'], 'argocd');
  for (const n of [1, 2]) assert.equal((await f.api('POST', '/releases', releaseBody({}, sha(n)), ci)).status, 201);
  const deploy = async (rel: string) =>
    (await f.api('POST', '/deployments', { repository: 'acme/mono', project: 'auth-service', environment: 'staging', release: rel }, ops))
      .body;
  const d1 = await deploy('1');
  const report = (revision: string) =>
    notify(
      { 'forge-url': f.url, 'forge-argocd-token': argo },
      application(
        {
          name: 'auth',
          path: 'staging/apps/acme/mono/auth-service',
          repoURL: repo.remote,
          sync: 'Synced',
          revision,
          health: 'Healthy',
          phase: 'Succeeded',
        },
        true,
      ),
    );
  assert.deepEqual((await report(d1.gitops_commit_sha)).body.events, ['deployment.synced', 'deployment.healthy']);
  const env = { FORGE_URL: f.url, FORGE_TOKEN: ops };

  const agree = await runCli(['status', '--repository', 'acme/mono'], { env });
  assert.equal(agree.code, 0, agree.stderr);
  assert.match(agree.stdout, /1 \(main-1\) Synced\/Healthy/);
  assert.doesNotMatch(agree.stdout, /DRIFT/);

  // Forge moved on to release 2; Argo CD still reports release 1's commit: drift, in the table and in JSON
  const d2 = await deploy('2');
  await report(d1.gitops_commit_sha);
  const drift = await runCli(['status', '--repository', 'acme/mono'], { env });
  assert.match(
    drift.stdout,
    new RegExp(`DRIFT: Argo CD at ${d1.gitops_commit_sha.slice(0, 12)}, Forge at ${d2.gitops_commit_sha.slice(0, 12)}`),
  );
  const json = JSON.parse((await runCli(['status', '--repository', 'acme/mono', '-o', 'json'], { env })).stdout);
  assert.equal(json[0].environments.staging.drift, true);
  assert.equal(json[0].environments.staging.cluster.revision, d1.gitops_commit_sha);
  const doctor = await runCli(['doctor', '-o', 'json'], { env });
  assert.equal(doctor.code, 1, doctor.stderr);
  const finding = JSON.parse(doctor.stdout).findings.find((x: { check: string }) => x.check === 'argocd_drift');
  assert.equal(finding.subject, 'staging: acme/mono/auth-service');
  assert.match(
    finding.problem,
    new RegExp(`Argo CD reported revision ${d1.gitops_commit_sha} .*; the active deployment's commit is ${d2.gitops_commit_sha}`),
  );
  // Argo CD catches up: no drift any more
  assert.deepEqual((await report(d2.gitops_commit_sha)).body.events, ['deployment.synced', 'deployment.healthy']);
  const clean = JSON.parse((await runCli(['doctor', '-o', 'json'], { env })).stdout);
  assert.equal(clean.findings.filter((x: { check: string }) => x.check === 'argocd_drift').length, 0);

  const metrics = await runCli(['metrics', '-e', 'staging', '-o', 'json'], { env });
  assert.equal(metrics.code, 0, metrics.stderr);
  const m = JSON.parse(metrics.stdout);
  assert.deepEqual([m.deployments, m.change_failure_rate, m.time_to_restore_seconds], [2, 0, null]);
  assert.equal(typeof m.lead_time_seconds, 'number');
  const table = await runCli(['metrics', '--repository', 'acme/mono'], { env });
  assert.match(table.stdout, /deployment frequency\s+[\d.]+ per day/);
  assert.match(table.stdout, /change failure rate\s+0%/);
  const bad = await runCli(['metrics', '--from', 'last tuesday'], { env });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--from "last tuesday" is not a valid time/);
  const reversed = await runCli(['metrics', '--from', '2026-02-01T00:00:00Z', '--to', '2026-01-01T00:00:00Z'], { env });
  assert.notEqual(reversed.code, 0);
  assert.match(reversed.stderr, /before to/);
  const help = await runCli(['metrics', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /DORA metrics/);
});
