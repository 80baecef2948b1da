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
      /release\.enable: conflicting values false and "<not a field of release: expected on, enabled or paths>"/,
    ],
    [
      'misspelt artifact field',
      { 'svc/.forge/project.cue': projectCue('svc', 'artifacts: bin: {type: "binary", publisher: x: external: uri: "u"}') },
      /artifacts\.bin\.publisher: conflicting values .*"<not a field of an artifact: expected type, producer, publishers or inputs>"/,
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
      /\.forge\/repo\.cue:\d+:\d+: tagging\.stratgy: conflicting values .*"<not a field of tagging: expected strategy>"/,
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
