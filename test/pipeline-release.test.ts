import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runCli, startForge } from './support/forge.js';
import { makeRepo, projectCue } from './support/pipeline-repo.js';
import { startRegistry } from './support/registry.js';

const env = (extra: Record<string, string>) => ({ GITHUB_REF: '', GITHUB_SHA: '', ...extra });

function monorepo(registry: string) {
  return makeRepo({
    'cue.mod/module.cue': 'module: "example.org/mono"\n',
    '.forge/repo.cue': 'package repo\n\ntagging: strategy: "monorepo"\n',
    'lib/k8s/k8s.cue': 'package k8s\n\n#ConfigMap: {apiVersion: "v1", kind: "ConfigMap", metadata: name: string, data: [string]: string}\n',
    'services/api/dist/index.html': '<h1>api</h1>\n',
    'services/api/.forge/project.cue': `package project

import "example.org/mono/lib/k8s"

name: "api"
release: on: [{branch: "main"}, {tag: true}]
artifacts: site: {
	type: "archive"
	producer: archive: path: "dist"
	publishers: registry: oci: repository: "${registry}/acme/api-site"
}
deployment: resources: [
	{apiVersion: "apps/v1", kind: "Deployment", metadata: name: "api", spec: template: spec: containers: [{name: "api", image: @artifact("site.uri")}]},
	k8s.#ConfigMap & {metadata: name: "api-digest", data: digest: string @artifact("site.digest")},
]
`,
    'services/worker/.forge/project.cue': projectCue(
      'worker',
      'release: on: [{branch: "release/.*"}]\ndeployment: resources: [{apiVersion: "v1", kind: "ConfigMap", metadata: name: "w"}]',
    ),
    'services/broken/.forge/project.cue': projectCue(
      'broken',
      `release: on: [{branch: "main"}]
artifacts: bin: {type: "binary", producer: command: {run: "echo no compiler >&2; exit 7", output: "x"}, publishers: r: oci: repository: "${registry}/acme/broken"}
deployment: resources: [{apiVersion: "v1", kind: "ConfigMap", metadata: name: "b"}]`,
    ),
  });
}

/** A stand-in for the server's POST /api/v1/releases that records what it was sent. */
async function recordingServer() {
  const bodies: { url: string; auth?: string; body: any }[] = [];
  let n = 0;
  const server = createServer(async (req: IncomingMessage, res) => {
    // release create asks who the token is and for the previous release before it builds.
    if (req.method === 'GET' && req.url === '/api/v1/whoami') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subject: 'ci', roles: ['service-account'] }));
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [], total: 0, limit: 1, offset: 0 }));
      return;
    }
    let text = '';
    for await (const c of req) text += c;
    const body = JSON.parse(text);
    bodies.push({ url: req.url!, auth: req.headers.authorization, body });
    res.writeHead(201, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        release_number: ++n,
        project: body.project,
        commit_sha: body.commit.sha,
        aliases: [
          { alias: String(n), alias_type: 'numeric' },
          { alias: `main-${n}`, alias_type: 'branch' },
        ],
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, close: () => new Promise((r) => server.close(r)) };
}

test('release create: builds, renders and sends exactly the DESIGN §10 body per triggered project; a failing project does not stop the others', async (t) => {
  const registry = await startRegistry();
  const server = await recordingServer();
  const repo = monorepo(registry.host);
  t.after(async () => {
    await server.close();
    await registry.destroy();
    repo.remove();
  });
  repo.git('remote', 'add', 'origin', 'git@github.com:Acme/Mono.git');
  const sha = repo.commit('Add api\n\nbody');
  repo.git('tag', 'api/v1.0.0');
  repo.git('tag', 'unrelated');
  const r = await runCli(['release', 'create', '-o', 'json'], {
    cwd: repo.dir,
    env: env({ FORGE_URL: server.url, FORGE_TOKEN: 'ci-token', HOME: repo.dir }),
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^worker: skipped: branch "main" matches no rule of release\.on: \{branch: "release\/\.\*"\}$/m);
  assert.match(r.stderr, /^api: build and publish 1 artifact\(s\): pushed 127\.0\.0\.1:\d+\/acme\/api-site:sha-[0-9a-f]{40}$/m);
  assert.match(r.stderr, /^api: register release: ok$/m);
  assert.match(
    r.stderr,
    /^broken: build and publish 1 artifact\(s\): failed: artifact "bin": command "echo no compiler >&2; exit 7" failed \(exit code 7\):\nno compiler$/m,
  );
  assert.match(r.stderr, /error: release failed for 1 project\(s\): broken/);

  assert.equal(server.bodies.length, 1, 'nothing is registered for the failed or untriggered projects');
  const [{ url, auth, body }] = server.bodies;
  assert.equal(url, '/api/v1/releases');
  assert.equal(auth, 'Bearer ci-token');
  assert.deepEqual(Object.keys(body), ['repository', 'project', 'commit', 'trigger', 'tags', 'tagging_strategy', 'artifacts', 'resources']);
  assert.equal(body.repository, 'acme/mono');
  assert.equal(body.project, 'api');
  assert.deepEqual(body.commit, {
    sha,
    author: 'Alice <alice@example.com>',
    message: 'Add api\n\nbody',
    committed_at: '2026-01-02T03:04:05+00:00', // git's strict ISO 8601, with the committer's offset
    url: `https://github.com/acme/mono/commit/${sha}`,
  });
  assert.deepEqual(body.trigger, { type: 'branch_push', branch: 'main' });
  assert.deepEqual(body.tags, ['api/v1.0.0', 'unrelated']);
  assert.equal(body.tagging_strategy, 'monorepo');
  const [art] = body.artifacts;
  assert.deepEqual(Object.keys(art), ['name', 'type', 'primary_published_uri', 'outputs', 'tracking_oci_uri', 'tracking_oci_digest']);
  assert.equal(art.name, 'site');
  assert.equal(art.tracking_oci_uri, `${registry.host}/acme/mono/api/site:sha-${sha}`);
  assert.match(art.primary_published_uri, new RegExp(`^${registry.host}/acme/api-site:sha-${sha}@sha256:[0-9a-f]{64}$`));
  assert.equal(body.resources[0].spec.template.spec.containers[0].image, art.primary_published_uri);
  assert.equal(body.resources[1].data.digest, art.outputs.digest);
  assert.doesNotMatch(JSON.stringify(body.resources), /@artifact|placeholder/);
  // -o json says what became of every project: the skipped and the failed ones too.
  assert.deepEqual(
    JSON.parse(r.stdout).map((x: { project: string; status: string; release?: { release_number: number } }) => [
      x.project,
      x.status,
      x.release?.release_number,
    ]),
    [
      ['worker', 'skipped', undefined],
      ['api', 'created', 1],
      ['broken', 'failed', undefined],
    ],
  );
});

test('release create --dry-run sends nothing; --manual releases a project without a matching rule; named dirs limit the run', async (t) => {
  const server = await recordingServer();
  const repo = monorepo('127.0.0.1:9');
  t.after(async () => {
    await server.close();
    repo.remove();
  });
  repo.git('remote', 'add', 'origin', 'https://github.com/acme/mono.git');
  repo.commit();
  const dry = await runCli(['release', 'create', '--dry-run', '-o', 'json', 'services/api'], {
    cwd: repo.dir,
    env: env({ FORGE_URL: server.url }),
  });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(server.bodies.length, 0);
  const [{ status, request: req }] = JSON.parse(dry.stdout);
  assert.equal(status, 'dry-run');
  assert.equal(req.project, 'api');
  assert.equal(req.resources[0].spec.template.spec.containers[0].image, `placeholder.invalid/site@sha256:${'0'.repeat(64)}`);

  const manual = await runCli(['release', 'create', '--manual', 'services/worker'], { cwd: repo.dir, env: env({ FORGE_URL: server.url }) });
  assert.equal(manual.code, 0, manual.stderr);
  assert.equal(server.bodies.length, 1);
  assert.deepEqual(server.bodies[0].body.trigger, { type: 'manual' });
  assert.deepEqual(server.bodies[0].body.artifacts, []);
  assert.match(manual.stdout, /^worker +created +#1/m);
});

test('release create against the real server: registers, and a re-run for the same commit answers with the existing release and pushes nothing new', async (t) => {
  const registry = await startRegistry();
  const forge = await startForge();
  const repo = monorepo(registry.host);
  t.after(async () => {
    await forge.stop();
    await registry.destroy();
    repo.remove();
  });
  repo.git('remote', 'add', 'origin', 'git@github.com:acme/mono.git');
  const sha = repo.commit();
  repo.git('tag', 'api/v1.0.0');
  const token = await forge.token(['service-account'], 'ci@example.com');
  const cli = (args: string[]) => runCli(args, { cwd: repo.dir, env: env({ FORGE_URL: forge.url, FORGE_TOKEN: token, HOME: repo.dir }) });
  const first = await cli(['release', 'create', '-o', 'json', 'services/api']);
  assert.equal(first.code, 0, first.stderr);
  const [{ status, release: created }] = JSON.parse(first.stdout);
  assert.equal(status, 'created');
  assert.equal(created.release_number, 1);
  assert.equal(created.commit_sha, sha);
  assert.deepEqual(created.aliases.map((a: { alias: string }) => a.alias).sort(), ['1', 'main-1', 'v1.0.0']);

  const again = await cli(['release', 'create', 'services/api']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already present 127\.0\.0\.1:\d+\/acme\/api-site:sha-/);
  assert.doesNotMatch(again.stderr, /: pushed /);
  assert.match(again.stdout, /^api +existing +#1 +/m);
  const list = await forge.api('GET', '/releases/acme/mono/api', undefined, token);
  assert.equal(list.body.total, 1);
});

test('release create shows a live task list per project and step on a terminal', async (t) => {
  const repo = monorepo('127.0.0.1:9');
  t.after(() => repo.remove());
  repo.commit();
  // util-linux `script` gives the CLI a pseudo-terminal with a width, as a developer's shell would.
  const cmd = `stty cols 100 rows 40; ${process.execPath} --import ${import.meta.resolve('tsx')} ${new URL('../src/cli/main.ts', import.meta.url).pathname} release create --dry-run --repository acme/mono services/api`;
  const out = await new Promise<string>((ok, fail) => {
    execFile(
      'script',
      ['-qec', cmd, '/dev/null'],
      { cwd: repo.dir, env: { ...process.env, GITHUB_REF: '', GITHUB_SHA: '' } },
      (err, stdout) => (err ? fail(err) : ok(stdout)),
    );
  });
  assert.match(out, /\x1b\[1A/, 'the list is redrawn in place');
  assert.match(out, /api\r?\n.*artifacts \(dry run: not built\)\r?\n.*render and check manifests\r?\n.*register \(dry run: not sent\)/);
  assert.doesNotMatch(out, /^api: render and check manifests: ok/m, 'no plain lines on a terminal');
});
