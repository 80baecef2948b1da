import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findArtifactRefs, lookupArtifactRef, substituteArtifactRefs } from '../src/core/artifact-refs.js';

const SRC = `package project

// a comment naming @artifact("api.uri") is left alone
x: "a string with @artifact(\\"api.uri\\") in it"
y: #"raw @artifact("api.uri") "#
z: """
	multi-line @artifact("api.uri")
	"""
image: @artifact("api.uri")
digest: string @artifact("api.digest")
list: [@artifact("api.publishers.registry.tag"), 1]
size: int @artifact(
	"api.size")
after: 1
`;

test('references are found in value and attribute position, never inside strings or comments', () => {
  const refs = findArtifactRefs(SRC, 'svc/.forge/project.cue');
  assert.deepEqual(
    refs.map((r) => [r.ref, r.line, r.column, r.position]),
    [
      ['api.uri', 9, 8, 'value'],
      ['api.digest', 10, 16, 'attribute'],
      ['api.publishers.registry.tag', 11, 8, 'value'],
      ['api.size', 12, 11, 'attribute'],
    ],
  );
  assert.deepEqual(refs[2].path, ['publishers', 'registry', 'tag']);
});

test('substitution writes CUE literals (attribute form as `& literal`) and keeps every line in place', () => {
  const values: Record<string, string | number> = {
    'api.uri': 'reg/x@sha256:1',
    'api.digest': 'sha256:1',
    'api.publishers.registry.tag': 'v"1',
    'api.size': 42,
  };
  const out = substituteArtifactRefs(SRC, 'f.cue', (r) => values[r.ref]);
  const lines = out.split('\n');
  assert.equal(lines.length, SRC.split('\n').length);
  assert.equal(lines[8], 'image: "reg/x@sha256:1"');
  assert.equal(lines[9], 'digest: string & "sha256:1"');
  assert.equal(lines[10], 'list: ["v\\"1", 1]');
  assert.equal(lines[11], 'size: int & 42');
  assert.equal(lines[13], 'after: 1');
  assert.ok(lines[2].includes('@artifact("api.uri")'), 'comments are untouched');
  assert.ok(lines[4].includes('@artifact("api.uri")'), 'raw strings are untouched');
  assert.ok(lines[6].includes('@artifact("api.uri")'), 'multi-line strings are untouched');
});

test('malformed references fail with file:line:column', () => {
  assert.throws(() => findArtifactRefs('a: 1\nb: @artifact(api.uri)\n', 'p.cue'), /^ForgeError: p\.cue:2:4: malformed @artifact reference/);
  assert.throws(() => findArtifactRefs('b: @artifact("api")\n', 'p.cue'), /p\.cue:1:4: "api" does not name an artifact and a field/);
  assert.throws(() => findArtifactRefs('b: "open\n', 'p.cue'), /p\.cue:1:4: unterminated string literal/);
});

test('an unknown artifact or field fails with its location and what exists', () => {
  const outputs = { api: { uri: 'u', digest: 'd', publishers: { registry: { uri: 'u', tag: 't' } } }, web: { uri: 'w', publishers: {} } };
  const [unknownArtifact, unknownField, partial] = findArtifactRefs(
    'a: @artifact("nope.uri")\nb: @artifact("api.url")\nc: @artifact("api.publishers")\n',
    'svc/.forge/project.cue',
  );
  assert.throws(
    () => lookupArtifactRef(outputs, unknownArtifact, 'svc/.forge/project.cue'),
    /svc\/\.forge\/project\.cue:1:4: @artifact\("nope\.uri"\) names unknown artifact "nope"; artifacts: api, web/,
  );
  assert.throws(
    () => lookupArtifactRef(outputs, unknownField, 'svc/.forge/project.cue'),
    /:2:4: @artifact\("api\.url"\) names unknown field "url" of artifact "api"; fields: uri, digest, publishers\.registry\.uri, publishers\.registry\.tag/,
  );
  assert.throws(() => lookupArtifactRef(outputs, partial, 'f'), /unknown field "publishers"/, 'a reference must reach a scalar');
  assert.equal(lookupArtifactRef(outputs, findArtifactRefs('a: @artifact("api.publishers.registry.tag")', 'f')[0], 'f'), 't');
});

test('references inside string interpolations are resolved; the rest of the string is not scanned', () => {
  const src =
    'image: "\\(@artifact("api.repository")):\\(tag) @artifact(\\"api.uri\\")"\nraw: #"\\#(@artifact("api.tag"))"#\nnext: @artifact("api.digest")\n';
  const refs = findArtifactRefs(src, 'f.cue');
  assert.deepEqual(
    refs.map((r) => [r.ref, r.line, r.position]),
    [
      ['api.repository', 1, 'value'],
      ['api.tag', 2, 'value'],
      ['api.digest', 3, 'value'],
    ],
  );
  const out = substituteArtifactRefs(src, 'f.cue', (r) => r.ref.toUpperCase());
  assert.equal(out, 'image: "\\("API.REPOSITORY"):\\(tag) @artifact(\\"api.uri\\")"\nraw: #"\\#("API.TAG")"#\nnext: "API.DIGEST"\n');
  assert.throws(() => findArtifactRefs('a: "\\(b"\n', 'f.cue'), /f\.cue:1:8: unterminated string literal/);
  assert.throws(() => findArtifactRefs('a: "\\(b\n', 'f.cue'), /f\.cue:2:1: unterminated string interpolation/);
});
