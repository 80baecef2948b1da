/**
 * CUE modules (issue 14): `deps` in cue.mod/module.cue resolve from an OCI registry with CUE's
 * own registry configuration (CUE_REGISTRY semantics), including Forge's registry with its
 * credentials; vendored packages under cue.mod/pkg keep working. The schema module is published
 * to a real docker-registry by the helper's test-only `publish` mode (cuelang.org/go/mod/modregistry).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CueEngine, cueHelperPath } from '../src/pipeline/cue-engine.js';
import { evaluateProject, readProjectSource } from '../src/pipeline/project.js';
import { makeRepo } from './support/pipeline-repo.js';
import { startRegistry } from './support/registry.js';

const run = promisify(execFile);

const SCHEMA = `package k8s

#Deployment: {
	apiVersion: "apps/v1"
	kind:       "Deployment"
	metadata: name!: string
	spec: replicas: *2 | int & >=1
}
`;

function tempTree(files: Record<string, string>): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'forge-cue-module-'));
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Publishes the schema module at `version` to `registry` (CUE_REGISTRY syntax). */
async function publishSchema(registry: string, version: string, env: NodeJS.ProcessEnv = process.env) {
  const mod = tempTree({
    'cue.mod/module.cue': 'module: "example.com/schemas@v0"\nlanguage: version: "v0.12.0"\n',
    'k8s/k8s.cue': SCHEMA,
  });
  try {
    await run(cueHelperPath(), ['publish', registry, mod.dir, version], { env });
  } finally {
    mod.remove();
  }
}

const APP = {
  'cue.mod/module.cue': 'module: "example.org/app@v0"\nlanguage: version: "v0.12.0"\ndeps: "example.com/schemas@v0": v: "v0.1.0"\n',
  'svc/.forge/project.cue': `package project

import "example.com/schemas/k8s"

name: "svc"
deployment: resources: [k8s.#Deployment & {metadata: name: "svc"}]
`,
};

test('a project imports a schema module from the registry named by CUE_REGISTRY', async (t) => {
  const registry = await startRegistry();
  const repo = makeRepo(APP);
  const cache = tempTree({});
  const engine = new CueEngine(undefined, { registry: { cueRegistry: registry.host, cacheDir: cache.dir } });
  t.after(async () => {
    await engine.close();
    await registry.destroy();
    repo.remove();
    cache.remove();
  });
  await publishSchema(registry.host, 'v0.1.0');
  const cfg = await evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir));
  assert.deepEqual(cfg.resources, [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'svc' }, spec: { replicas: 2 } }]);

  // A dependency the registry does not have is an error naming the module file and the module.
  repo.write(
    'cue.mod/module.cue',
    'module: "example.org/app@v0"\nlanguage: version: "v0.12.0"\ndeps: "example.com/schemas@v0": v: "v0.9.9"\n',
  );
  await assert.rejects(evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir)), /example\.com\/schemas@v0\.9\.9/);
});

test("Forge's registry credentials are offered to Forge's registry host", async (t) => {
  const registry = await startRegistry({ auth: 'basic' });
  const repo = makeRepo(APP);
  const cache = tempTree({});
  const docker = tempTree({
    'config.json': JSON.stringify({
      auths: { [registry.host]: { auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64') } },
    }),
  });
  const forgeRegistry = {
    cueRegistry: registry.host,
    cacheDir: cache.dir,
    host: registry.host,
    username: registry.username,
    password: registry.password,
  };
  const engine = new CueEngine(undefined, { registry: forgeRegistry });
  const anonymous = new CueEngine(undefined, { registry: { cueRegistry: registry.host, cacheDir: join(cache.dir, 'anonymous') } });
  t.after(async () => {
    await engine.close();
    await anonymous.close();
    await registry.destroy();
    repo.remove();
    cache.remove();
    docker.remove();
  });
  await publishSchema(registry.host, 'v0.1.0', { ...process.env, DOCKER_CONFIG: docker.dir });
  await assert.rejects(
    evaluateProject(anonymous, await readProjectSource(join(repo.dir, 'svc'), repo.dir)),
    /401|unauthori[sz]ed|authentication/i,
  );
  const cfg = await evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir));
  assert.equal(cfg.resources.length, 1);
});

test('vendored packages under cue.mod/pkg keep working in a legacy module', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': 'module: "example.org/mono"\n',
    'cue.mod/pkg/example.com/vendored/labels/labels.cue': 'package labels\n\n#Team: "payments" | "search"\n',
    'svc/.forge/project.cue': 'package project\n\nimport "example.com/vendored/labels"\n\nname: "svc"\nteam: labels.#Team & "payments"\n',
  });
  const engine = new CueEngine(undefined, { warn: () => undefined, registry: { cueRegistry: 'none' } });
  t.after(async () => {
    await engine.close();
    repo.remove();
  });
  const cfg = await evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir));
  assert.equal(cfg.name, 'svc');
});

test('a cue.mod/module.cue that is not valid is refused with its cause, file and line; only one without language.version is read as legacy (issue 14 review)', async (t) => {
  const warnings: string[] = [];
  const engine = new CueEngine(undefined, { warn: (m) => warnings.push(m), registry: { cueRegistry: 'none' } });
  t.after(() => engine.close());
  const project = { 'svc/.forge/project.cue': 'package project\n\nname: "svc"\n' };
  const cases: [string, string, RegExp][] = [
    [
      'a language version newer than the engine',
      'module: "example.com/m@v0"\nlanguage: version: "v0.99.0"\n',
      /cue\.mod\/module\.cue:2:\d+: language\.version: language version "v0\.99\.0" .*too new.*Forge's CUE engine is v0\.\d+\.\d+: write language\.version "v0\.\d+\.\d+" or older, or upgrade Forge/,
    ],
    [
      'a version that is not v<major>.<minor>.<patch>',
      'module: "example.com/m@v0"\nlanguage: version: "0.12"\n',
      /cue\.mod\/module\.cue:2:\d+: language\.version: language version "0\.12" .*not valid semantic version; write it as v<major>\.<minor>\.<patch>/,
    ],
    [
      'an unknown field',
      'module: "example.com/m@v0"\nlanguage: version: "v0.12.0"\nfoo: 1\n',
      /cue\.mod\/module\.cue:3:1: foo: `foo` is not a field of cue\.mod\/module\.cue; its fields are module, language, source, deps and custom/,
    ],
    [
      'a misspelt field',
      'modul: "example.com/m@v0"\nlanguage: version: "v0.12.0"\n',
      /cue\.mod\/module\.cue:1:1: modul: `modul` is not a field of cue\.mod\/module\.cue; did you mean `module`\?/,
    ],
    [
      'an invalid module path',
      'module: "Example.com/My"\nlanguage: version: "v0.12.0"\n',
      /cue\.mod\/module\.cue:1:\d+: module: module path "Example\.com\/My" is not valid.*lower-case domain name/,
    ],
    [
      'a syntax error',
      'module: "example.com/m@v0\nlanguage: version: "v0.12.0"\n',
      /cue\.mod\/module\.cue:1:\d+: .*string literal not terminated/,
    ],
  ];
  for (const [what, moduleCue, message] of cases) {
    const repo = makeRepo({ 'cue.mod/module.cue': moduleCue, ...project });
    t.after(() => repo.remove());
    const err = await evaluateProject(engine, await readProjectSource(join(repo.dir, 'svc'), repo.dir)).then(
      () => assert.fail(`${what}: accepted`),
      (e: Error) => e,
    );
    assert.match(err.message, message, what);
    assert.doesNotMatch(err.message, /no language\.version/, what);
  }
  assert.deepEqual(warnings, [], 'none of them is read as a legacy module');

  // A module.cue without language.version is the legacy case: read as `cue mod fix` would, with the warning.
  const legacy = makeRepo({ 'cue.mod/module.cue': 'module: "example.org/mono"\n', ...project });
  t.after(() => legacy.remove());
  const cfg = await evaluateProject(engine, await readProjectSource(join(legacy.dir, 'svc'), legacy.dir));
  assert.equal(cfg.name, 'svc');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /cue\.mod\/module\.cue has no language\.version: Forge reads it as `cue mod fix` would/);
});
