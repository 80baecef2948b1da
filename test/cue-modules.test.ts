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
