/**
 * Today's CUE (issue 14, acceptance 1): the engine is the official implementation, so CUE written
 * for current releases renders; legacy repositories render with a warning; every failure names
 * file, line, column and value path and the CUE version; the memory limit stops a bomb.
 */
import assert from 'node:assert/strict';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CueEngine, cueVersion } from '../src/pipeline/cue-engine.js';
import { evaluateProject, readProjectSource } from '../src/pipeline/project.js';
import { runCli } from './support/forge.js';
import { makeRepo, type TestRepo } from './support/pipeline-repo.js';

const MODULE_V012 = 'module: "example.org/today@v0"\nlanguage: version: "v0.12.0"\n';

async function render(repo: TestRepo, dir: string, engine: CueEngine) {
  return evaluateProject(engine, await readProjectSource(join(repo.dir, dir), repo.dir));
}

function withEngine(t: { after: (fn: () => Promise<void>) => void }, repo: TestRepo, engine = new CueEngine()) {
  t.after(async () => {
    await engine.close();
    repo.remove();
  });
  return engine;
}

test('a language v0.12.0 module using matchN and matchIf renders', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': MODULE_V012,
    'svc/.forge/project.cue': `package project

name: "svc"
#Port: int & >0 & <65536
#Probe: matchN(1, [{httpGet!: _}, {tcpSocket!: _}])
#Env: matchIf({value: string}, {name: =~"^[A-Z_]+$"}, _)
deployment: resources: [{
	apiVersion: "v1", kind: "Pod", metadata: name: "svc"
	spec: containers: [{
		name: "c", image: "img", ports: [{containerPort: 8080 & #Port}]
		readinessProbe: #Probe & {tcpSocket: port: 8080}
		env: [#Env & {name: "LOG_LEVEL", value: "info"}]
	}]
}]
`,
  });
  const engine = withEngine(t, repo);
  const cfg = await render(repo, 'svc', engine);
  const pod = cfg.resources[0] as { spec: { containers: { readinessProbe: unknown; env: unknown }[] } };
  assert.deepEqual(pod.spec.containers[0].readinessProbe, { tcpSocket: { port: 8080 } });
  assert.deepEqual(pod.spec.containers[0].env, [{ name: 'LOG_LEVEL', value: 'info' }]);

  repo.write('svc/.forge/project.cue', 'package project\n\nname: "svc"\nprobe: matchN(1, [{a: int}, {b: int}]) & {a: 1, b: 2}\n');
  await assert.rejects(render(repo, 'svc', engine), (err: Error) => {
    assert.match(err.message, /svc\/\.forge\/project\.cue:4:\d+: probe: /);
    return true;
  });
});

test('@embed reads json, yaml, text and globs beside the project; list.Concat joins lists', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': MODULE_V012,
    'svc/.forge/config.json': '{"replicas": 3, "name": "svc-config"}',
    'svc/.forge/labels.yaml': 'team: payments\ntier: backend\n',
    'svc/.forge/motd.txt': 'hello from a file\n',
    'svc/.forge/dashboards/a.json': '{"title": "A"}',
    'svc/.forge/dashboards/b.json': '{"title": "B"}',
    'svc/.forge/project.cue': `@extern(embed)

package project

import "list"

name: "svc"
_cfg: _ @embed(file=config.json)
_labels: _ @embed(file=labels.yaml)
_motd: _ @embed(file=motd.txt, type=text)
_dashboards: _ @embed(glob=dashboards/*.json)
_base: [{apiVersion: "v1", kind: "ConfigMap", metadata: {name: _cfg.name, labels: _labels}, data: motd: _motd}]
deployment: resources: list.Concat([_base, [for f, d in _dashboards {apiVersion: "v1", kind: "ConfigMap", metadata: name: "dash-\\(d.title)", data: file: f}]])
`,
  });
  const engine = withEngine(t, repo);
  const cfg = await render(repo, 'svc', engine);
  assert.deepEqual(cfg.resources, [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'svc-config', labels: { team: 'payments', tier: 'backend' } },
      data: { motd: 'hello from a file\n' },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dash-A' }, data: { file: 'dashboards/a.json' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dash-B' }, data: { file: 'dashboards/b.json' } },
  ]);
});

test('a cue.mod/module.cue without language.version is read as `cue mod fix` would, with a warning saying how to fix it', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': 'module: "example.org/mono"\n',
    'lib/k8s/k8s.cue': 'package k8s\n\n#Labels: [string]: string\n',
    'svc/.forge/project.cue': `package project

import "example.org/mono/lib/k8s"

name: "svc"
_common: [{apiVersion: "v1", kind: "ConfigMap", metadata: {name: "a", labels: k8s.#Labels & {app: "svc"}}}]
deployment: resources: _common + [{apiVersion: "v1", kind: "ConfigMap", metadata: name: "b"}]
`,
  });
  const warnings: string[] = [];
  const engine = withEngine(t, repo, new CueEngine(undefined, { warn: (m) => warnings.push(m) }));
  const cfg = await render(repo, 'svc', engine);
  assert.deepEqual(
    cfg.resources.map((r) => (r as { metadata: { name: string } }).metadata.name),
    ['a', 'b'],
  );
  await render(repo, 'svc', engine);
  assert.equal(warnings.length, 1, 'each warning is given once per engine');
  assert.match(warnings[0], /cue\.mod\/module\.cue has no language\.version/);
  assert.match(warnings[0], /cue mod fix/);
  assert.match(warnings[0], /language: \{\n\tversion: "v0\.9\.0"\n\}/);
});

test('every CUE failure names file, line, column, value path and the CUE version; an incomplete disjunction is never an empty message', async (t) => {
  const version = await cueVersion();
  assert.match(version, /^v0\.(1[4-9]|[2-9]\d)\.\d+/);
  const repo = makeRepo({
    'cue.mod/module.cue': MODULE_V012,
    'svc/.forge/project.cue': `package project

name: "svc"
deployment: resources: [{apiVersion: "v1", kind: "ConfigMap", metadata: name: "x", data: level: "debug" | "info"}]
`,
  });
  const engine = withEngine(t, repo);
  await assert.rejects(render(repo, 'svc', engine), (err: Error & { details?: { cue_errors: string[]; cue_version: string } }) => {
    assert.match(err.message, new RegExp(`failed \\(CUE ${version.replaceAll('.', '\\.')}; paths relative to `));
    assert.match(
      err.message,
      /svc\/\.forge\/project\.cue:4:\d+: deployment\.resources\.0\.data\.level: incomplete value "debug" \| "info"/,
    );
    assert.equal(err.details?.cue_version, version);
    return true;
  });

  repo.write('svc/.forge/project.cue', 'package project\n\nname: "svc"\nreplicas: int & "three"\n');
  await assert.rejects(render(repo, 'svc', engine), /svc\/\.forge\/project\.cue:4:11: replicas: conflicting values int and "three"/);

  repo.write('svc/.forge/project.cue', 'package project\n\nname: "svc"\nx: [\n');
  await assert.rejects(render(repo, 'svc', engine), /svc\/\.forge\/project\.cue:\d+:\d+: .+/);
});

test("schema errors name the user's file and line where the value is, never Forge's own schema file", async (t) => {
  const repo = makeRepo({ 'cue.mod/module.cue': MODULE_V012, 'svc/.forge/project.cue': 'package project\n\nname: "svc"\n' });
  const engine = withEngine(t, repo);
  // Each kind of schema failure: a constraint, a closed field, a disjunction of forms, a required
  // field inside a struct the user wrote, a required field nobody wrote, a list of a definition.
  const cases: [string, RegExp][] = [
    ['name: "Bad_Name"\n', /^svc\/\.forge\/project\.cue:3:7: name: invalid value "Bad_Name"/m],
    ['name: "svc"\nrelease: {\n\ton: [{branch: "main"}]\n\tenabeld: true\n}\n', /^svc\/\.forge\/project\.cue:6:11: release\.enabeld: /m],
    [
      'name: "svc"\nrelease: on: [{branch: "main", tag: true}]\n',
      /^svc\/\.forge\/project\.cue:4:15: release\.on\.0: 3 errors in empty disjunction: expected exactly one of \{branch: "<regex>"\}, \{glob: "<glob>"\} or \{tag: true\} \(forge\.#Trigger\)$/m,
    ],
    [
      'name: "svc"\nartifacts: web: {\n\ttype: "container"\n\tproducer: command: {run: "make"}\n}\n',
      /^svc\/\.forge\/project\.cue:6:12: artifacts\.web\.producer\.command\.output: incomplete value string \(a field Forge's schema requires/m,
    ],
    ['release: on: [{branch: "main"}]\n', /^svc\/\.forge\/project\.cue:1:1: name: incomplete value .*a field Forge's schema requires/m],
    [
      'name: "svc"\ndeployment: resources: {a: 1}\n',
      /^svc\/\.forge\/project\.cue:4:24: deployment\.resources: .*\[\.\.\.forge\.#Resource\]/m,
    ],
    [
      'name: "svc"\nartifacts: web: type: "containr"\n',
      /^svc\/\.forge\/project\.cue:4:\d+: artifacts\.web\.type: .*expected "container", "binary" or "archive"/m,
    ],
  ];
  for (const [body, expected] of cases) {
    repo.write('svc/.forge/project.cue', `package project\n\n${body}`);
    await assert.rejects(render(repo, 'svc', engine), (err: Error & { details?: { cue_errors: string[] } }) => {
      assert.match(err.message, expected, body);
      assert.doesNotMatch(err.message, /zz_forge_schema|#__forge/, `no internal name: ${err.message}`);
      for (const line of err.details!.cue_errors.filter((l) => !l.startsWith('    also at')))
        assert.match(line, /^svc\/\.forge\/project\.cue:\d+:\d+: /, `every error names the user's file: ${line}`);
      return true;
    });
  }
  repo.write('.forge/repo.cue', 'package repo\n\ntagging: strategy: "tagall"\n');
  const { loadTaggingStrategy } = await import('../src/pipeline/project.js');
  await assert.rejects(loadTaggingStrategy(engine, repo.dir), (err: Error) => {
    assert.match(err.message, /^\.forge\/repo\.cue:3:\d+: tagging\.strategy: .*expected "monorepo" or "tag-all"/m);
    assert.doesNotMatch(err.message, /zz_forge_schema/);
    return true;
  });
});

test('@embed paths are relative to the .cue file\'s directory and cannot leave it: "..", absolute paths and links out of the module are refused', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': MODULE_V012,
    secret: 'top secret\n',
    'svc/README.md': 'the project folder, above .forge\n',
    'svc/.forge/ok.txt': 'inside\n',
    'svc/.forge/project.cue': 'package project\n\nname: "svc"\n',
  });
  const engine = withEngine(t, repo);
  const project = (attr: string) =>
    `@extern(embed)\n\npackage project\n\nname: "svc"\n_f: _ @embed(${attr})\ndeployment: resources: [{apiVersion: "v1", kind: "ConfigMap", metadata: name: "c", data: f: _f}]\n`;
  repo.write('svc/.forge/project.cue', project('file=ok.txt, type=text'));
  assert.deepEqual((await render(repo, 'svc', engine)).resources[0], {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c' },
    data: { f: 'inside\n' },
  });
  const refused: [string, RegExp][] = [
    ['file="../../secret", type=text', /cannot refer to parent directory/],
    ['file="../README.md", type=text', /cannot refer to parent directory/],
    [`file="${join(repo.dir, 'secret')}", type=text`, /only relative files are allowed/],
    ['file="./ok.txt", type=text', /path not normalized, use "ok\.txt" instead/],
  ];
  for (const [attr, why] of refused) {
    repo.write('svc/.forge/project.cue', project(attr));
    await assert.rejects(render(repo, 'svc', engine), (err: Error) => {
      assert.match(err.message, /svc\/\.forge\/project\.cue:6:\d+: /, attr);
      assert.match(err.message, why, attr);
      assert.match(
        err.message,
        /@embed paths are relative to the directory of the \.cue file holding the attribute \(a project's \.forge\/\)/,
      );
      assert.doesNotMatch(err.message, /top secret/);
      return true;
    });
  }
  // A symbolic link inside .forge leading out of the module: CUE would follow it; Forge refuses.
  const outside = join(tmpdir(), `forge-outside-${process.pid}.txt`);
  writeFileSync(outside, 'top secret\n');
  t.after(() => rmSync(outside, { force: true }));
  symlinkSync(outside, join(repo.dir, 'svc/.forge/link.txt'));
  for (const attr of ['file=link.txt, type=text', 'glob=*.txt, type=text']) {
    repo.write('svc/.forge/project.cue', project(attr));
    await assert.rejects(render(repo, 'svc', engine), (err: Error) => {
      assert.match(
        err.message,
        /svc\/\.forge\/project\.cue:6:\d+: cannot embed "svc\/\.forge\/link\.txt": it is a symbolic link leading outside the CUE module/,
        attr,
      );
      assert.doesNotMatch(err.message, /top secret/);
      return true;
    });
  }
});

test('a helper over its memory limit is stopped with a clear error, and the next call starts a fresh one', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': MODULE_V012,
    'svc/.forge/project.cue':
      'package project\n\nimport (\n\t"list"\n\t"strings"\n)\n\nname: "svc"\nbomb: [for i in list.Range(0, 1000, 1) {strings.Repeat("\\(i)", 1000000)}]\n',
    'ok/.forge/project.cue': 'package project\n\nname: "ok"\n',
  });
  const engine = withEngine(t, repo, new CueEngine(60_000, { memoryLimitMiB: 128 }));
  await assert.rejects(render(repo, 'svc', engine), /CUE evaluation of svc\/\.forge used more than 128 MiB and was stopped/);
  assert.equal((await render(repo, 'ok', engine)).name, 'ok');
});

test('forge version prints the CUE version, also as JSON', async () => {
  const r = await runCli(['version', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const v = JSON.parse(r.stdout) as { forge: string; cue: string; node: string };
  assert.equal(v.cue, await cueVersion());
  assert.equal(v.node, process.version);
  const plain = await runCli(['version']);
  assert.match(plain.stdout, /^cue\s+v0\.\d+\.\d+$/m);
});
