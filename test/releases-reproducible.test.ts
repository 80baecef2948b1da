/** Reproducible packaging over HTTP (issue 2, acceptance 5): two fresh servers, one request, one manifest digest. */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { releaseBody, sha, startForge } from './support/forge.js';

test('the same request registered on two fresh servers gives the same manifest digest, readable by skopeo', async () => {
  const [a, b] = [await startForge(), await startForge()];
  try {
    const body = releaseBody(
      {
        tags: ['auth-service/v1.0.0'],
        commit: { sha: sha(5), url: 'https://git.example.com/acme/mono', committed_at: '2026-03-04T05:06:07Z' },
      },
      sha(5),
    );
    const [ra, rb] = [
      await a.api('POST', '/releases', body, await a.token(['service-account'])),
      await b.api('POST', '/releases', body, await b.token(['service-account'])),
    ];
    assert.equal(ra.status, 201, ra.text);
    assert.equal(rb.status, 201, rb.text);
    assert.equal(ra.body.oci_digest, rb.body.oci_digest);
    assert.notEqual(ra.body.oci_uri, rb.body.oci_uri, 'different stores, same content');
    const raw = execFileSync('skopeo', ['inspect', '--raw', ra.body.oci_uri]);
    const manifest = JSON.parse(raw.toString());
    assert.equal(manifest.artifactType, 'application/vnd.forge.release.v1');
    assert.equal(manifest.annotations['org.opencontainers.image.source'], 'https://git.example.com/acme/mono');
  } finally {
    await a.stop();
    await b.stop();
  }
});
