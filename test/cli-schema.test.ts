/**
 * The configuration schema (docs/configuration.md): Forge checks every project and repo file
 * against it, so a misspelt or misplaced field is an error naming its path; and users can import
 * the same definitions (`forge schema` into cue.mod/pkg) and get the same answer.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './support/forge.js';
import { makeRepo, projectCue } from './support/pipeline-repo.js';

test('forge validate refuses misspelt fields, two kinds of rule in one, and a bad tagging strategy, naming the path', async (t) => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'misspelt release field',
      { 'svc/.forge/project.cue': projectCue('svc', 'release: {on: [{branch: "main"}], enable: false}') },
      /svc\/\.forge\/project\.cue:4:\d+: release\.enable: `enable` is not a field of release; expected on, enabled or paths; did you mean `enabled`\?/,
    ],
    [
      'misspelt artifact field',
      { 'svc/.forge/project.cue': projectCue('svc', 'artifacts: bin: {type: "binary", publisher: x: external: uri: "u"}') },
      /artifacts\.bin\.publisher: `publisher` is not a field of an artifact; expected type, producer, publishers or inputs; did you mean `publishers`\?/,
    ],
    [
      'two kinds in one rule',
      { 'svc/.forge/project.cue': projectCue('svc', 'release: on: [{branch: "main", tag: true}]') },
      /release\.on\.0: 3 errors in empty disjunction/,
    ],
    ['bad project name', { 'svc/.forge/project.cue': projectCue('Svc_1') }, /name: invalid value "Svc_1"/],
    [
      'bad tagging strategy',
      { '.forge/repo.cue': 'package repo\n\ntagging: strategy: "tagall"\n', 'svc/.forge/project.cue': projectCue('svc') },
      /tagging\.strategy: 2 errors in empty disjunction/,
    ],
    [
      'misspelt tagging field',
      { '.forge/repo.cue': 'package repo\n\ntagging: stratgy: "tag-all"\n', 'svc/.forge/project.cue': projectCue('svc') },
      /\.forge\/repo\.cue:3:\d+: tagging\.stratgy: `stratgy` is not a field of tagging; expected strategy; did you mean `strategy`\?/,
    ],
    [
      'bad artifact name',
      { 'svc/.forge/project.cue': projectCue('svc', 'artifacts: "Bad_Name": {type: "binary"}') },
      /svc\/\.forge\/project\.cue/,
    ],
  ];
  for (const [what, files, message] of cases) {
    const repo = makeRepo(files);
    t.after(() => repo.remove());
    const r = await runCli(['validate'], { cwd: repo.dir });
    assert.equal(r.code, 1, `${what}: ${r.stdout}`);
    assert.match(r.stderr, message, what);
  }
});

test('the schema users import is the one Forge checks with: forge schema into cue.mod/pkg, then forge.#Project', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': 'module: "example.org/mono"\nlanguage: version: "v0.12.0"\n',
    'svc/.forge/project.cue': `package project

import "forge.dev/schema:forge"

forge.#Project
name: "svc"
release: on: [{glob: "release/*"}]
deployment: resources: [{apiVersion: "v1", kind: "ConfigMap", metadata: name: "c"}]
`,
  });
  t.after(() => repo.remove());
  const schema = await runCli(['schema']);
  assert.equal(schema.code, 0, schema.stderr);
  assert.match(schema.stdout, /^package forge$/m);
  assert.match(schema.stdout, /^#Project: \{/m);
  mkdirSync(join(repo.dir, 'cue.mod/pkg/forge.dev/schema'), { recursive: true });
  writeFileSync(join(repo.dir, 'cue.mod/pkg/forge.dev/schema/forge.cue'), schema.stdout);
  const ok = await runCli(['validate'], { cwd: repo.dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^ok {6}svc \(svc: 1 resources, 0 artifacts\)$/m);
});

/** `forge validate` in a new repository of `files`: exit 1 and stderr matching `message`, never CUE's internals. */
async function refused(t: { after: (fn: () => void) => void }, what: string, files: Record<string, string>, message: RegExp) {
  const repo = makeRepo(files);
  t.after(() => repo.remove());
  const r = await runCli(['validate'], { cwd: repo.dir });
  assert.equal(r.code, 1, `${what}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, message, what);
  assert.doesNotMatch(r.stderr, /_\|_|incomplete value \{|\(no position\)/, `${what}: no CUE internals`);
}

test('repo.cue: a misspelt top-level field and a package other than repo are errors naming the file and line (issue 14 review)', async (t) => {
  const svc = { 'svc/.forge/project.cue': projectCue('svc') };
  for (const [field, body] of [
    ['taging', 'taging: strategy: "tag-all"'],
    ['Tagging', 'Tagging: {strategy: "tag-all"}'],
    ['tagin', '// the strategy\ntagin: strategy: "tag-all"'],
  ]) {
    await refused(
      t,
      field,
      { '.forge/repo.cue': `package repo\n\n${body}\n`, ...svc },
      new RegExp(`\\.forge/repo\\.cue:${body.startsWith('//') ? 4 : 3}: ${field}: not a repo\\.cue field; did you mean "tagging"\\?`),
    );
  }
  for (const pkg of ['repository', 'project', 'forge']) {
    await refused(
      t,
      `package ${pkg}`,
      { '.forge/repo.cue': `package ${pkg}\n\ntagging: strategy: "tag-all"\n`, ...svc },
      new RegExp(`\\.forge/repo\\.cue:1: package must be "repo", got "${pkg}"`),
    );
  }
  await refused(
    t,
    'no package',
    { '.forge/repo.cue': 'tagging: strategy: "tag-all"\n', ...svc },
    /\.forge\/repo\.cue:1: no package clause: the file needs `package repo`/,
  );
  // A helper field that is no near miss stays allowed, and so do comments and attributes before the clause.
  const repo = makeRepo({
    '.forge/repo.cue': '// repository settings\npackage repo\n\n_teams: ["a"]\ntagging: strategy: "tag-all"\n',
    ...svc,
  });
  t.after(() => repo.remove());
  const ok = await runCli(['validate'], { cwd: repo.dir });
  assert.equal(ok.code, 0, ok.stderr);
});

test('project.cue: a wrong or missing package clause names the file, line and the package it must be (issue 14 review)', async (t) => {
  await refused(
    t,
    'package foo',
    { 'svc/.forge/project.cue': 'package foo\n\nname: "svc"\n' },
    /svc\/\.forge\/project\.cue:1: package must be "project", got "foo"/,
  );
  await refused(
    t,
    'package after a comment',
    { 'svc/.forge/project.cue': '// the service\n\npackage repo\n\nname: "svc"\n' },
    /svc\/\.forge\/project\.cue:3: package must be "project", got "repo"/,
  );
  await refused(
    t,
    'no package',
    { 'svc/.forge/project.cue': 'name: "svc"\n' },
    /svc\/\.forge\/project\.cue:1: no package clause: the file needs `package project`/,
  );
  await refused(
    t,
    'a second file in another package',
    { 'svc/.forge/project.cue': projectCue('svc'), 'svc/.forge/extra.cue': 'package extra\n\n_x: 1\n' },
    /svc\/\.forge\/extra\.cue:1: package must be "project", got "extra"/,
  );
});

test('a misspelt field anywhere in a project says which field it is not and which it may be, with file and line (issue 14 review)', async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      'deployment',
      'deployment: resorces: []',
      /:4:\d+: deployment\.resorces: `resorces` is not a field of deployment; expected resources; did you mean `resources`\?/,
    ],
    [
      'deployment, far',
      'deployment: replicas: 2',
      /:4:\d+: deployment\.replicas: `replicas` is not a field of deployment; expected resources \(/,
    ],
    [
      'trigger',
      'release: on: [{brnach: "main"}]',
      /:4:\d+: release\.on\.0\.brnach: `brnach` is not a field of a trigger; expected branch, glob or tag; did you mean `branch`\?/,
    ],
    [
      'trigger, second rule',
      'release: on: [{tag: true}, {glb: "r/*"}]',
      /:4:\d+: release\.on\.1\.glb: `glb` is not a field of a trigger; expected branch, glob or tag; did you mean `glob`\?/,
    ],
    [
      'producer',
      'artifacts: a: {type: "archive", producer: archiv: path: "."}',
      /:4:\d+: artifacts\.a\.producer\.archiv: `archiv` is not a field of a producer; expected command, archive or oci-layout; did you mean `archive`\?/,
    ],
    [
      'command producer',
      'artifacts: a: {type: "binary", producer: command: {rnu: "make", output: "a"}}',
      /:4:\d+: artifacts\.a\.producer\.command\.rnu: `rnu` is not a field of a command producer; expected run or output; did you mean `run`\?/,
    ],
    [
      'publisher',
      'artifacts: a: {type: "binary", publishers: p: {external: uri: "u", primray: true}}',
      /:4:\d+: artifacts\.a\.publishers\.p\.primray: `primray` is not a field of a publisher; expected oci, external or primary; did you mean `primary`\?/,
    ],
    [
      'oci publisher',
      'artifacts: a: {type: "binary", producer: archive: path: ".", publishers: p: oci: {repository: "r", tga: "v1"}}',
      /:4:\d+: artifacts\.a\.publishers\.p\.oci\.tga: `tga` is not a field of an oci publisher; expected repository or tag; did you mean `tag`\?/,
    ],
    [
      'no producer form',
      'artifacts: a: {type: "binary", producer: {}}',
      /:4:\d+: artifacts\.a\.producer: none of the forms is given: expected exactly one of command/,
    ],
  ];
  for (const [what, extra, message] of cases) {
    await refused(
      t,
      what,
      { 'svc/.forge/project.cue': projectCue('svc', extra) },
      new RegExp(`svc/\\.forge/project\\.cue${message.source}`),
    );
  }
  // Hidden fields stay free for helpers under deployment.
  const repo = makeRepo({
    'svc/.forge/project.cue': projectCue(
      'svc',
      'deployment: {_name: "c", resources: [{apiVersion: "v1", kind: "ConfigMap", metadata: name: _name}]}',
    ),
  });
  t.after(() => repo.remove());
  const ok = await runCli(['validate'], { cwd: repo.dir });
  assert.equal(ok.code, 0, ok.stderr);
});

test('forge validate refuses the paths forge release create would: inputs outside the repository, an archive folder that is not one (issue 14 review)', async (t) => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'inputs outside',
      { 'svc/.forge/project.cue': projectCue('svc', 'artifacts: a: {type: "binary", inputs: ["lib", "../../../../etc"]}') },
      /svc\/\.forge\/project\.cue:4: artifacts\."a"\.inputs\[1\]: "\.\.\/\.\.\/\.\.\/\.\.\/etc" is outside the repository/,
    ],
    [
      'release.paths outside',
      { 'svc/.forge/project.cue': projectCue('svc', 'release: paths: ["/../x"]') },
      /svc\/\.forge\/project\.cue:4: release\.paths\[0\]: "\/\.\.\/x" is outside the repository/,
    ],
    [
      'archive folder missing',
      { 'svc/.forge/project.cue': projectCue('svc', 'artifacts: a: {type: "archive", producer: archive: path: "../src"}') },
      /svc\/\.forge\/project\.cue:4: artifacts\."a"\.producer\.archive\.path: artifact "a": archive path \.\.\/src does not exist/,
    ],
    [
      'archive folder outside',
      { 'svc/.forge/project.cue': projectCue('svc', 'artifacts: a: {type: "archive", producer: archive: path: "../../"}') },
      /svc\/\.forge\/project\.cue:4: artifacts\."a"\.producer\.archive\.path: artifact "a": archive path \.\.\/\.\.\/ is outside the repository/,
    ],
    [
      'archive of a file',
      {
        'svc/.forge/project.cue': projectCue('svc', 'artifacts: a: {type: "archive", producer: archive: path: "README"}'),
        'svc/README': 'x\n',
      },
      /svc\/\.forge\/project\.cue:4: artifacts\."a"\.producer\.archive\.path: artifact "a": archive path README is not a directory/,
    ],
  ];
  for (const [what, files, message] of cases) await refused(t, what, files, message);
  // What release create packs passes: a folder of the repository, or a build output git ignores.
  const repo = makeRepo({
    'svc/.forge/project.cue': projectCue(
      'svc',
      'artifacts: {a: {type: "archive", producer: archive: path: "../src"}, b: {type: "archive", producer: archive: path: "dist"}, c: {type: "binary", inputs: ["/lib"]}}',
    ),
    'src/index.js': '1\n',
    'svc/.gitignore': 'dist/\n',
  });
  t.after(() => repo.remove());
  const ok = await runCli(['validate'], { cwd: repo.dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^ok {6}svc \(svc: 0 resources, 3 artifacts\)$/m);
});
