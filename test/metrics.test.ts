/** /metrics in Prometheus text format (issue 8, acceptance 6). */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from './support/eventually.js';
import { releaseBody, sha, startForge } from './support/forge.js';

const value = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

test('metrics: public, prefixed forge_, latency histograms and release counters by outcome', async () => {
  const forge = await startForge();
  try {
    const before = (await forge.api('GET', '/metrics')).text;
    const ci = await forge.token(['service-account']);
    assert.equal((await forge.api('POST', '/releases', releaseBody({}, sha(1)), ci)).status, 201);
    assert.equal((await forge.api('POST', '/releases', releaseBody({}, sha(1)), ci)).status, 200);
    assert.equal((await forge.api('POST', '/releases', releaseBody({ project: 'Bad' }, sha(2)), ci)).status, 400);
    const auto = 'forge_deployments_total{kind="auto",outcome="active"}';
    // The auto-deploy to dev lands after the answer: wait until it is counted.
    const res = await eventually('the auto-deploy counted', async () => {
      const now = await forge.api('GET', '/metrics');
      return value(now.text, auto) - value(before, auto) >= 1 ? now : undefined;
    });
    assert.equal(res.status, 200);
    for (const outcome of ['created', 'existing', 'failed']) {
      const s = `forge_releases_total{outcome="${outcome}"}`;
      assert.equal(value(res.text, s) - value(before, s), 1, s);
    }
    assert.match(
      res.text,
      /^forge_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/api\/v1\/releases",status="201"\} \d+$/m,
    );
    assert.match(res.text, /^# TYPE forge_registry_errors_total counter$/m);
    assert.match(res.text, /^# TYPE forge_gitops_push_retries_total counter$/m);
    assert.ok(
      res.text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .every((l) => l.startsWith('forge_')),
    );
  } finally {
    await forge.stop();
  }
});
