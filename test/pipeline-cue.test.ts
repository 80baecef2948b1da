import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CueEngine } from '../src/pipeline/cue-engine.js';
import { evaluateProject, loadTaggingStrategy, readProjectSource } from '../src/pipeline/project.js';
import { makeRepo } from './support/pipeline-repo.js';

const K8S = `package k8s

#Labels: [string]: string
#Deployment: {
	apiVersion: "apps/v1"
	kind:       "Deployment"
	metadata: name: string
	metadata: labels?: #Labels
	spec: replicas: *2 | int
	spec: template: _
}
`;

const PROJECT = `package project

import (
	"strings"
	"example.org/mono/lib/k8s"
)

name: "auth"
release: on: [{branch: "main"}]
artifacts: api: {
	type: "container"
	producer: "oci-layout": path: "build/image"
	publishers: registry: oci: repository: "registry.example.com/acme/auth"
}
#Port: 8080
deployment: resources: [
	k8s.#Deployment & {
		metadata: name: strings.ToLower("AUTH")
		spec: template: spec: containers: [{name: "api", image: @artifact("api.uri"), ports: [{containerPort: #Port}]}]
	},
	{apiVersion: "v1", kind: "ConfigMap", metadata: name: "auth-digest", data: digest: string @artifact("api.digest")},
]
`;

test('the real CUE engine evaluates packages, imports of the repository module, definitions, defaults and the stdlib', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': 'module: "example.org/mono"\n',
    '.forge/repo.cue': 'package repo\ntagging: strategy: "tag-all"\n',
    'lib/k8s/k8s.cue': K8S,
    'services/auth/.forge/project.cue': PROJECT,
    'services/auth/.forge/extra.cue': 'package project\n\nartifacts: api: type: "container"\n',
  });
  const engine = new CueEngine();
  t.after(async () => {
    await engine.close();
    repo.remove();
  });
  assert.equal(await loadTaggingStrategy(engine, repo.dir), 'tag-all');
  const src = await readProjectSource(join(repo.dir, 'services/auth'), repo.dir);
  const values: Record<string, string> = { 'api.uri': 'registry.example.com/acme/auth:sha-1@sha256:abc', 'api.digest': 'sha256:abc' };
  const cfg = await evaluateProject(engine, src, (r) => values[r.ref]);
  assert.equal(cfg.name, 'auth');
  assert.deepEqual(cfg.release, { on: [{ branch: 'main' }], enabled: true });
  assert.deepEqual(cfg.artifacts, [
    {
      name: 'api',
      type: 'container',
      producer: { kind: 'oci-layout', path: 'build/image' },
      publishers: [{ name: 'registry', kind: 'oci', repository: 'registry.example.com/acme/auth', primary: false }],
    },
  ]);
  assert.deepEqual(cfg.resources, [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'auth' },
      spec: {
        replicas: 2,
        template: { spec: { containers: [{ name: 'api', image: values['api.uri'], ports: [{ containerPort: 8080 }] }] } },
      },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'auth-digest' }, data: { digest: 'sha256:abc' } },
  ]);
});

test('placeholders stand in for artifact values when nothing is built', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': 'module: "example.org/mono"\n',
    'lib/k8s/k8s.cue': K8S,
    'svc/.forge/project.cue': PROJECT,
  });
  const engine = new CueEngine();
  t.after(async () => {
    await engine.close();
    repo.remove();
  });
  const cfg = await evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir));
  const dep = cfg.resources[0] as { spec: { template: { spec: { containers: { image: string }[] } } } };
  assert.equal(dep.spec.template.spec.containers[0].image, `placeholder.invalid/api@sha256:${'0'.repeat(64)}`);
});

test('a CUE error fails the project with file:line:column, pointing into the user file even after the pre-pass', async (t) => {
  const repo = makeRepo({
    'svc/.forge/project.cue':
      'package project\n\nname: "svc"\nartifacts: a: {type: "binary", publishers: ext: external: uri: "https://x/a"}\nimg: @artifact("a.uri")\nreplicas: int & "three"\n',
  });
  const engine = new CueEngine();
  t.after(async () => {
    await engine.close();
    repo.remove();
  });
  await assert.rejects(evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir)), (err: Error) => {
    assert.match(err.message, /CUE evaluation of svc\/\.forge failed/);
    assert.match(err.message, /svc\/\.forge\/project\.cue:6:11/);
    return true;
  });
});

test('an unknown artifact or field fails with the location and the fields that exist', async (t) => {
  const repo = makeRepo({
    'svc/.forge/project.cue':
      'package project\n\nname: "svc"\nartifacts: a: {type: "binary", publishers: ext: external: {uri: "https://x/a", digest: "sha256:1"}}\nimg: @artifact("a.url")\n',
  });
  const engine = new CueEngine();
  t.after(async () => {
    await engine.close();
    repo.remove();
  });
  await assert.rejects(
    evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir)),
    /svc\/\.forge\/project\.cue:5:6: @artifact\("a\.url"\) names unknown field "url" of artifact "a"; fields: uri, digest, publishers\.ext\.uri, publishers\.ext\.digest/,
  );
});

test('evaluation runs in a helper process with a time limit; the engine recovers after a timeout', async (t) => {
  const repo = makeRepo({ '.forge/repo.cue': 'package repo\ntagging: strategy: "monorepo"\n' });
  const slow = new CueEngine(1);
  const engine = new CueEngine();
  t.after(async () => {
    await slow.close();
    await engine.close();
    repo.remove();
  });
  await assert.rejects(loadTaggingStrategy(slow, repo.dir), /did not finish within 1 ms and was stopped/);
  assert.equal(await loadTaggingStrategy(engine, repo.dir), 'monorepo');
});
