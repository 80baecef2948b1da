/**
 * Change detection (issue 14, acceptance 3): a branch push releases only the projects whose inputs
 * changed since their previous release; --all forces; identical content is not registered (so
 * not auto-deployed); a tag always registers; a shallow clone without the previous commit
 * releases with a warning. Real git, the real server, a real registry, examples/monorepo.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  cueImports,
  detectChange,
  inputsOfProject,
  modulePath,
  projectInputs,
  resolveInputPaths,
  sameContent,
} from '../src/pipeline/changes.js';
import { readProjectSource } from '../src/pipeline/project.js';
import { runCli, startForge, tempDir } from './support/forge.js';
import { makeRepo } from './support/pipeline-repo.js';
import { startRegistry } from './support/registry.js';

const EXAMPLE = join(import.meta.dirname, '../examples/monorepo');

test('cueImports reads every import form; modulePath drops the major version; comments are not imports', () => {
  const src = `package project

// import "commented/out"
import "strings"
import k "example.org/mono/lib/k8s"
import (
	"list"
	x "example.org/mono/lib/x@v0"
	// "also/commented"
	"example.org/mono/lib/y:pkg"
)
`;
  assert.deepEqual(cueImports(src), [
    'strings',
    'example.org/mono/lib/k8s',
    'list',
    'example.org/mono/lib/x@v0',
    'example.org/mono/lib/y:pkg',
  ]);
  assert.equal(modulePath('module: "example.org/mono@v0"\nlanguage: version: "v0.12.0"\n'), 'example.org/mono');
  assert.equal(modulePath('// module: "no"\nmodule: "a.b/c"\n'), 'a.b/c');
  assert.equal(modulePath('language: version: "v0.12.0"\n'), undefined);
});

test('declared paths: relative to the project, "/" is the repository root, outside the repository is an error naming the field', () => {
  assert.deepEqual(resolveInputPaths(['../../proto', '/schemas/', 'src'], 'services/api', 'release.paths'), [
    'proto',
    'schemas',
    'services/api/src',
  ]);
  assert.throws(
    () => resolveInputPaths(['ok', '../../../etc'], 'services/api', 'release.paths'),
    /release\.paths\[1\] "\.\.\/\.\.\/\.\.\/etc" is outside the repository/,
  );
  assert.throws(() => resolveInputPaths(['/..'], '.', 'artifacts.site.inputs'), /artifacts\.site\.inputs\[0\]/);
  // A path inside another is listed once; the root project's inputs are everything.
  assert.deepEqual(
    projectInputs({ relDir: 'services/api', moduleRelDir: '.', imports: ['lib/k8s', 'lib'], declared: ['services/api/src'] }),
    ['cue.mod', 'lib', 'services/api'],
  );
  assert.deepEqual(projectInputs({ relDir: '.', moduleRelDir: '.', imports: ['lib'], declared: [] }), ['.']);
});

test('inputs of a project: its folder, cue.mod, the repository packages it imports (transitively), release.paths and artifact inputs', async (t) => {
  const repo = makeRepo({
    'cue.mod/module.cue': 'module: "example.org/mono@v0"\nlanguage: version: "v0.12.0"\n',
    'lib/k8s/k8s.cue': 'package k8s\n\nimport "example.org/mono/lib/base"\n\n#App: base.#Base\n',
    'lib/base/base.cue': 'package base\n\nimport "strings"\n\n#Base: {n: strings.ToUpper("x")}\n',
    'lib/unused/u.cue': 'package unused\n',
    'services/api/.forge/project.cue': `package project

import "example.org/mono/lib/k8s"

name: "api"
release: {on: [{branch: "main"}], paths: ["/proto/api"]}
artifacts: bin: {type: "binary", inputs: ["../../go.mod", "/tools/build.sh"], publishers: up: external: uri: "x"}
_a: k8s.#App
deployment: resources: []
`,
  });
  t.after(() => repo.remove());
  const src = await readProjectSource(join(repo.dir, 'services/api'), repo.dir);
  assert.deepEqual(
    await inputsOfProject(src, { paths: ['/proto/api'], artifacts: [{ name: 'bin', inputs: ['../../go.mod', '/tools/build.sh'] }] }),
    ['cue.mod', 'go.mod', 'lib/base', 'lib/k8s', 'proto/api', 'services/api', 'tools/build.sh'],
  );
});

test('detectChange: against the previous release, not the previous commit; a commit missing from the clone releases with a warning', async (t) => {
  const repo = makeRepo({ 'a/x.txt': '1\n', 'b/y.txt': '1\n' });
  t.after(() => repo.remove());
  const released = repo.commit('first');
  repo.write('b/y.txt', '2\n');
  repo.commit('b only');
  repo.write('README', 'docs\n');
  const head = repo.commit('docs only');
  const prev = { release_number: 1, commit_sha: released };
  // Two commits since the release: the last touches neither, the one before touches b.
  assert.equal((await detectChange(repo.dir, head, prev, ['a'])).changed, false);
  const b = await detectChange(repo.dir, head, prev, ['b']);
  assert.ok(b.changed);
  assert.deepEqual(b.changed && b.files, ['b/y.txt']);
  assert.equal((await detectChange(repo.dir, head, undefined, ['a'])).changed, true, 'no previous release: the first one');
  const gone = await detectChange(repo.dir, head, { release_number: 7, commit_sha: 'f'.repeat(40) }, ['a']);
  assert.ok(gone.changed && gone.warning);
  assert.match(
    gone.changed ? gone.warning! : '',
    /commit ffffffffffff of release #7 is not in this checkout \(a shallow clone\?\).*fetch-depth: 0/,
  );
});

test('sameContent: equal resources digest and artifact digests, whatever the order; any digest differing is different', () => {
  const prev = {
    resources_digest: 'sha256:r',
    artifacts: [
      { name: 'a', outputs: { digest: 'sha256:1' } },
      { name: 'b', outputs: { digest: 'sha256:2' } },
    ],
  };
  assert.equal(
    sameContent(prev, 'sha256:r', [
      { name: 'b', outputs: { digest: 'sha256:2' } },
      { name: 'a', outputs: { digest: 'sha256:1' } },
    ]),
    true,
  );
  assert.equal(sameContent(prev, 'sha256:other', [...prev.artifacts]), false);
  assert.equal(
    sameContent(prev, 'sha256:r', [
      { name: 'a', outputs: { digest: 'sha256:1' } },
      { name: 'b', outputs: { digest: 'sha256:3' } },
    ]),
    false,
  );
  assert.equal(sameContent(prev, 'sha256:r', [{ name: 'a', outputs: { digest: 'sha256:1' } }]), false);
});

test('examples/monorepo: an api-only commit releases only api, a lib/k8s commit both; no-op content is not registered; a tag always registers; --all forces; a shallow clone warns', async (t) => {
  const registry = await startRegistry();
  const forge = await startForge();
  const dir = tempDir('forge-changes-');
  const shallow = tempDir('forge-shallow-');
  t.after(async () => {
    await forge.stop();
    await registry.destroy();
    rmSync(dir, { recursive: true, force: true });
    rmSync(shallow, { recursive: true, force: true });
  });
  cpSync(EXAMPLE, dir, { recursive: true });
  const web = join(dir, 'services/web/.forge/project.cue');
  writeFileSync(web, readFileSync(web, 'utf8').replace('127.0.0.1:5000', registry.host));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=Alice', '-c', 'user.email=alice@example.com', ...args], { cwd: dir, encoding: 'utf8' });
  const commit = (message: string) => {
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD').trim();
  };
  const edit = (path: string, from: string, to: string) => {
    const text = readFileSync(join(dir, path), 'utf8');
    assert.ok(text.includes(from), `${path} holds ${from}`);
    writeFileSync(join(dir, path), text.replace(from, to));
  };
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', 'https://github.com/acme/mono.git');
  commit('Example monorepo');
  const token = await forge.token(['service-account'], 'ci@example.com');
  const release = async (args: string[] = [], env: Record<string, string> = {}, cwd = dir) => {
    const r = await runCli(['release', 'create', '-o', 'json', ...args], {
      cwd,
      env: { FORGE_URL: forge.url, FORGE_TOKEN: token, HOME: dir, GITHUB_REF: '', GITHUB_SHA: '', ...env },
    });
    assert.equal(r.code, 0, r.stderr);
    return {
      // one entry per project: {project, status, reason?, release?, request?}
      released: (JSON.parse(r.stdout) as { project: string; status: string; release?: { release_number: number } }[])
        .filter((x) => x.status === 'created' || x.status === 'existing' || x.status === 'dry-run')
        .map((x) => `${x.project}#${x.release?.release_number}`),
      statuses: Object.fromEntries((JSON.parse(r.stdout) as { project: string; status: string }[]).map((x) => [x.project, x.status])),
      stderr: r.stderr,
    };
  };

  assert.deepEqual((await release()).released, ['api#1', 'web#1'], 'first releases of both');

  // Acceptance 3: a commit that changes only services/api releases only api.
  edit('services/api/.forge/project.cue', 'replicas: 3', 'replicas: 4');
  commit('api: four replicas');
  const apiOnly = await release();
  assert.deepEqual(apiOnly.released, ['api#2']);
  // -o json says what became of every project, not only of those released (issue 14 review)
  assert.deepEqual(apiOnly.statuses, { api: 'created', web: 'skipped' });
  assert.match(
    apiOnly.stderr,
    /^web: skipped: no input changed since release #1 \([0-9a-f]{12}\); inputs: cue\.mod, lib\/k8s, services\/web/m,
  );
  assert.match(apiOnly.stderr, /^api: 1 input file\(s\) changed since release #1: services\/api\/\.forge\/project\.cue$/m);

  // A commit to a file nothing reads releases nothing.
  writeFileSync(join(dir, 'NOTES.md'), 'notes\n');
  commit('notes');
  assert.deepEqual((await release()).released, []);

  // A dry run detects changes as a real run does (issue 14 review item 5): nothing to release.
  const dry = await release(['--dry-run']);
  assert.deepEqual(dry.released, [], 'a dry run prints the requests it would send: none');
  assert.match(dry.stderr, /^api: skipped: no input changed since release #2/m);
  assert.match(dry.stderr, /^web: skipped: no input changed since release #1/m);
  // ... and when it cannot ask the server, it says it skipped them instead of silently releasing everything.
  const blind = await runCli(['release', 'create', '--dry-run', '-o', 'json'], {
    cwd: dir,
    env: { FORGE_URL: 'http://127.0.0.1:9', FORGE_TOKEN: token, HOME: dir, GITHUB_REF: '', GITHUB_SHA: '' },
  });
  assert.equal(blind.code, 0, blind.stderr);
  assert.deepEqual(
    (JSON.parse(blind.stdout) as { project: string; status: string }[]).map((x) => [x.project, x.status]),
    [
      ['api', 'dry-run'],
      ['web', 'dry-run'],
    ],
  );
  for (const name of ['api', 'web'])
    assert.match(
      blind.stderr,
      new RegExp(`^${name}: change detection skipped \\(dry run\\): cannot read the previous release from http://127\\.0\\.0\\.1:9`, 'm'),
    );

  // ... and one that changes lib/k8s releases both.
  edit('lib/k8s/k8s.cue', '_labels: {app: name}', '_labels: {app: name, "app.kubernetes.io/part-of": "mono"}');
  commit('k8s: part-of label');
  const both = await release();
  assert.deepEqual(both.released.sort(), ['api#3', 'web#2']);

  // An input changed but the content did not (a comment; api's artifact is external): not registered.
  edit('services/api/.forge/project.cue', 'name: "api"', '// The API.\nname: "api"');
  commit('api: comment');
  const noop = await release([], {}, dir);
  assert.deepEqual(noop.released, []);
  assert.match(
    noop.stderr,
    /^api: register release: same manifests and artifact digests as release #3: not registered, nothing to deploy$/m,
  );
  const api = await forge.api('GET', '/releases/acme/mono/api?limit=1', undefined, token);
  assert.equal(api.body.total, 3);

  // A tag always registers, changed or not (change detection is for branch pushes).
  git('tag', 'api/v1.0.0');
  const tag = await release([], { GITHUB_REF: 'refs/tags/api/v1.0.0' });
  assert.deepEqual(tag.released, ['api#4']);
  const tagged = await forge.api('GET', '/releases/acme/mono/api/v1.0.0', undefined, token);
  assert.equal(tagged.status, 200, JSON.stringify(tagged.body));
  assert.equal(tagged.body.release_number, 4);

  // --all forces every triggered project: api's commit is released already (the server answers
  // with #4), web's image tag is its commit: new content, a new release.
  const all = await release(['--all']);
  assert.deepEqual(all.released.sort(), ['api#4', 'web#3']);
  assert.doesNotMatch(all.stderr, /skipped: no input changed/);

  // A shallow clone without the previous release's commit: released, with a warning.
  edit('services/api/.forge/project.cue', 'replicas: 4', 'replicas: 5');
  commit('api: five replicas');
  execFileSync('git', ['clone', '-q', '--depth', '1', `file://${dir}`, shallow]);
  execFileSync('git', ['remote', 'set-url', 'origin', 'https://github.com/acme/mono.git'], { cwd: shallow });
  const webCue = join(shallow, 'services/web/.forge/project.cue');
  assert.match(readFileSync(webCue, 'utf8'), new RegExp(registry.host.replace(/\./g, '\\.')));
  const fromShallow = await release(['services/api'], {}, shallow);
  assert.match(fromShallow.stderr, /^api: warning: commit [0-9a-f]{12} of release #\d+ is not in this checkout \(a shallow clone\?\)/m);
  assert.equal(fromShallow.released.length, 1);
});
