/** forge doctor (issue 8, acceptance 5): every disagreement between database, registry and GitOps repository is reported. */

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { releaseBody, runCli, sha, startForge } from './support/forge.js';
import { commitOutside, makeRemote, show } from './support/gitops.js';

test('doctor: agrees on a healthy installation, then names a moved pointer, a stray pointer and a missing image', async (t) => {
  const { remote, cleanup } = makeRemote();
  const forge = await startForge({ env: { FORGE_GITOPS_URL: remote } });
  t.after(async () => {
    await forge.stop();
    cleanup();
  });
  const ci = await forge.token(['service-account']);
  const ops = await forge.token(['operator'], 'olga@example.com');
  const env = { FORGE_URL: forge.url, FORGE_TOKEN: ops };

  const r1 = await forge.api('POST', '/releases', releaseBody({}, sha(1)), ci);
  const r2 = await forge.api('POST', '/releases', releaseBody({ project: 'billing' }, sha(2)), ci);
  assert.equal(r1.status, 201, r1.text);
  for (const r of [r1, r2]) {
    assert.equal(r.body.auto_deployments?.[0]?.environment, 'dev', 'dev auto-deploys');
    for (let i = 0; ; i++) {
      // auto-deploys may finish after the answer
      const done = await forge.api('GET', `/deployments/dev/acme/mono/${r.body.project}`, undefined, ops);
      if (done.body.status === 'active') break;
      assert.ok(i < 200, done.text);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }

  const healthy = await runCli(['doctor', '-o', 'json'], { env });
  assert.equal(healthy.code, 0, healthy.stderr + healthy.stdout);
  const report = JSON.parse(healthy.stdout);
  assert.deepEqual(report.findings, []);
  assert.deepEqual(report.checked, { releases: 2, active_deployments: 2, pointer_files: 2, audit_entries: report.checked.audit_entries });

  const billing = show(remote, 'main', 'dev/apps/acme/mono/billing/release.yaml')!;
  commitOutside(
    remote,
    {
      'dev/apps/acme/mono/auth-service/release.yaml': billing.replaceAll('billing', 'auth-service'),
      'staging/apps/acme/mono/ghost/release.yaml': billing
        .replaceAll('billing', 'ghost')
        .replace('environment: dev', 'environment: staging'),
    },
    'hand edits',
  );
  rmSync(join(forge.dataDir, 'registry/acme/mono/billing/blobs', r2.body.oci_digest.replace(':', '/')));

  const sick = await runCli(['doctor', '-o', 'json'], { env });
  assert.equal(sick.code, 1);
  const findings = JSON.parse(sick.stdout).findings as { check: string; subject: string; problem: string }[];
  const about = (check: string, subject: string) => findings.find((f) => f.check === check && f.subject.includes(subject));
  assert.match(about('pointers', 'dev: acme/mono/auth-service')?.problem ?? '', /points at 000000000000.*active release is 1/);
  assert.match(
    about('pointers', 'staging: acme/mono/ghost')?.problem ?? '',
    /staging\/apps\/acme\/mono\/ghost\/release.yaml .*no active deployment/,
  );
  assert.match(about('release_images', 'acme/mono/billing release 1')?.problem ?? '', new RegExp(r2.body.oci_digest));
  assert.equal(findings.length, 3, JSON.stringify(findings, null, 2));
  const text = await runCli(['doctor'], { env });
  assert.match(text.stdout, /pointers\s+staging: acme\/mono\/ghost/);

  // --repair adopts only what git's side can stand for: pointers naming no release Forge knows stay findings.
  const repaired = await runCli(['doctor', '--repair', '-o', 'json'], { env });
  assert.equal(repaired.code, 1, repaired.stderr);
  const answer = JSON.parse(repaired.stdout);
  assert.deepEqual(answer.adopted, []);
  assert.equal(answer.report.findings.length, 3);
  const help = await runCli(['doctor', '--help'], { env });
  assert.match(help.stdout, /--repair/);
});
