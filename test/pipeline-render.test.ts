import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { runCli } from './support/forge.js';
import { makeRepo, projectCue } from './support/pipeline-repo.js';

const API = `package project

name: "api"
artifacts: server: {
	type: "container"
	producer: archive: path: "dist"
	publishers: registry: oci: repository: "registry.example.com/acme/api"
}
deployment: resources: [
	{apiVersion: "apps/v1", kind: "Deployment", metadata: name: "api", spec: image: @artifact("server.uri")},
	{apiVersion: "v1", kind: "ConfigMap", metadata: name: "api", data: {digest: string @artifact("server.digest"), tag: @artifact("server.publishers.registry.tag")}},
]
`;

test('forge render prints a YAML stream with placeholder or given artifact values', async (t) => {
  // dist is a build output (ignored by git): it need not exist to render.
  const repo = makeRepo({ '.forge/repo.cue': 'package repo\n', 'api/.forge/project.cue': API, 'api/.gitignore': 'dist/\n' });
  t.after(() => repo.remove());
  const plain = await runCli(['render', 'api'], { cwd: repo.dir });
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(plain.stdout.startsWith('---\napiVersion: apps/v1\n'));
  const docs = parseAllDocuments(plain.stdout).map((d) => d.toJS());
  assert.equal(docs.length, 2);
  assert.equal(docs[0].spec.image, `placeholder.invalid/server@sha256:${'0'.repeat(64)}`);

  const given = await runCli(['render', '--artifact', 'server.uri=reg/api@sha256:1', '--artifact', 'server.publishers.registry.tag=v1'], {
    cwd: join(repo.dir, 'api'),
  });
  assert.equal(given.code, 0, given.stderr);
  const [dep, cm] = parseAllDocuments(given.stdout).map((d) => d.toJS());
  assert.equal(dep.spec.image, 'reg/api@sha256:1');
  assert.deepEqual(cm.data, { digest: `sha256:${'0'.repeat(64)}`, tag: 'v1' });

  const unknown = await runCli(['render', 'api', '--artifact', 'server.nope=1'], { cwd: repo.dir });
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /--artifact server\.nope: artifact "server" has no field "nope"/);
  const notProject = await runCli(['render', '.'], { cwd: repo.dir });
  assert.equal(notProject.code, 1);
  assert.match(notProject.stderr, /\. is not a project directory: expected \.forge\/project\.cue/);
});

test('forge render refuses invalid objects, naming the field path', async (t) => {
  const repo = makeRepo({
    'svc/.forge/project.cue': projectCue(
      'svc',
      'deployment: resources: [{apiVersion: "v1", kind: "ConfigMap", metadata: name: "Bad_Name"}]',
    ),
  });
  t.after(() => repo.remove());
  const r = await runCli(['render', 'svc'], { cwd: repo.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /svc\/\.forge: invalid request: deployment\.resources\[0\]\.metadata\.name: expected a DNS-1123 name/);
  assert.equal(r.stdout, '');
});

test('forge validate checks every project and names the invalid ones and duplicate names', async (t) => {
  const repo = makeRepo({
    'a/.forge/project.cue': projectCue('a'),
    'b/.forge/project.cue': projectCue('b', 'x: @artifact("nope.uri")'),
    'c/.forge/project.cue': projectCue('c', 'release: on: [{branch: "main"}]'),
  });
  t.after(() => repo.remove());
  const r = await runCli(['validate'], { cwd: repo.dir });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^ok {6}a \(a: 0 resources, 0 artifacts\)$/m);
  assert.match(r.stdout, /^invalid b$/m);
  assert.match(
    r.stderr,
    /b\/\.forge\/project\.cue:4:4: @artifact\("nope\.uri"\) names unknown artifact "nope"; artifacts: \(none defined\)/,
  );
  assert.match(r.stderr, /1 of 3 projects are invalid: b/);

  repo.write('b/.forge/project.cue', projectCue('a'));
  const dup = await runCli(['validate'], { cwd: repo.dir });
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /two projects are named "a": a\/\.forge\/project\.cue and b\/\.forge\/project\.cue/);
});
