import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { runCli, startForge, tempDir } from './support/forge.js';

import { startRegistry } from './support/registry.js';

test('examples/monorepo: validate, render, and release both projects end to end against the embedded server', async (t) => {
  const registry = await startRegistry();
  const forge = await startForge();
  const dir = tempDir('forge-example-');
  t.after(async () => {
    await forge.stop();
    await registry.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  cpSync(join(import.meta.dirname, '../examples/monorepo'), dir, { recursive: true });
  // The example publishes to a registry on 127.0.0.1:5000; this test's registry has its own port.
  const web = join(dir, 'services/web/.forge/project.cue');
  writeFileSync(web, readFileSync(web, 'utf8').replace('127.0.0.1:5000', registry.host));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.name=Alice', '-c', 'user.email=alice@example.com', 'commit', '-q', '-m', 'Example monorepo');
  git('tag', 'web/v1.0.0');
  git('remote', 'add', 'origin', 'https://github.com/acme/mono.git');
  const token = await forge.token(['service-account'], 'ci@example.com');
  const cli = (...args: string[]) =>
    runCli(args, { cwd: dir, env: { FORGE_URL: forge.url, FORGE_TOKEN: token, HOME: dir, GITHUB_REF: '', GITHUB_SHA: '' } });

  const validate = await cli('validate');
  assert.equal(validate.code, 0, validate.stderr);
  // The example is written for today's CUE (language.version, list.Concat): no legacy-module warning, no warning at all.
  assert.doesNotMatch(validate.stderr, /warning|language\.version|cue mod fix/i, validate.stderr);
  assert.match(validate.stdout, /ok {6}services\/api \(api: 4 resources, 1 artifacts\)/);

  const render = await cli('render', 'services/api');
  assert.equal(render.code, 0, render.stderr);
  assert.doesNotMatch(render.stderr, /warning/i, render.stderr);
  const docs = parseAllDocuments(render.stdout).map((d) => d.toJS());
  assert.deepEqual(
    docs.map((d) => d.kind),
    ['Deployment', 'Service', 'ConfigMap', 'HorizontalPodAutoscaler'],
  );
  assert.equal(
    docs[0].spec.template.spec.containers[0].image,
    'ghcr.io/acme/api-server:1.4.2',
    'an external publisher renders its configured uri',
  );

  const created = await cli('release', 'create', '-o', 'json');
  assert.equal(created.code, 0, created.stderr);
  assert.doesNotMatch(created.stderr, /warning/i, created.stderr);
  const outcomes = JSON.parse(created.stdout) as {
    project: string;
    status: string;
    release: { project: string; release_number: number; aliases: { alias: string }[]; artifacts: { tracking_oci_uri?: string }[] };
  }[];
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['created', 'created'],
  );
  const releases = outcomes.map((o) => o.release);
  assert.deepEqual(
    releases.map((r) => [r.project, r.release_number]),
    [
      ['api', 1],
      ['web', 1],
    ],
  );
  assert.deepEqual(releases[1].aliases.map((a) => a.alias).sort(), ['1', 'main-1', 'v1.0.0']);
  assert.match(releases[1].artifacts[0].tracking_oci_uri!, new RegExp(`^${registry.host}/acme/mono/web/site:sha-`));

  const resources = await forge.api('GET', '/releases/acme/mono/web/v1.0.0/resources', undefined, token, { accept: 'application/json' });
  assert.equal(resources.status, 200);
  const image: string = resources.body.find((o: { kind: string }) => o.kind === 'Deployment').spec.template.spec.containers[0].image;
  assert.match(image, new RegExp(`^${registry.host}/acme/web:sha-[0-9a-f]{40}@sha256:[0-9a-f]{64}$`));
  const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${image.split(':sha-')[0]}@${image.split('@')[1]}`], {
    encoding: 'utf8',
  });
  assert.equal(JSON.parse(raw).Layers.length, 1);
});
