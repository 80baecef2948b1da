/**
 * The walk-throughs, executed as written (issue 14): the README's Quickstart, then
 * examples/monorepo/README.md followed by the README's "A monorepo, end to end" in the same shell.
 * The `sh` blocks are read from the Markdown files and run by bash, line by line, stopping at the
 * first failing line (named in the failure). So the documents cannot drift from what works.
 *
 * Only what a test must change is changed, each a plain substitution listed in SUBSTITUTIONS:
 * ports (8080 and 5000 may be taken on a shared machine: a free port and the test's registry),
 * `/tmp/mono` (a temp folder), `npm install && npm start` (already built: `forge serve` as
 * `npm start` runs it) and `npm test` (this is a test). The Forge checkout is a temp folder with
 * `dist` and `examples` linked in, so `.forge-data` is not written into the real checkout.
 * Runs the built CLI (`npm run build` first, as the README says).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, tempDir } from './support/forge.js';
import { startRegistry } from './support/registry.js';

/** The `sh` code blocks of the Markdown section under `heading` (until the next heading of the same level). */
export function shBlocks(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `heading "${heading}" not found`);
  const level = heading.split(' ')[0];
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n${level} `));
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** Waits after every line that starts a server in the background until it answers. */
const WAIT = (url: string) => `until curl -sf ${url}/healthz >/dev/null 2>&1; do sleep 0.3; done`;

/**
 * Runs `script` in bash: each line is echoed before it runs (`+ line` on stderr), the first failing
 * line stops the run and is named; background jobs are stopped at the end.
 */
function runScript(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const full = [
    'set -eo pipefail',
    'shopt -s expand_aliases',
    `trap 'echo "walk-through failed at line: $BASH_COMMAND" >&2' ERR`,
    `trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT`,
    'set -v',
    script,
  ].join('\n');
  return new Promise((ok) => {
    const child = spawn('bash', ['-c', full], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => ok({ code, out }));
  });
}

const git = {
  GIT_AUTHOR_NAME: 'Alice',
  GIT_AUTHOR_EMAIL: 'alice@example.com',
  GIT_COMMITTER_NAME: 'Alice',
  GIT_COMMITTER_EMAIL: 'alice@example.com',
  GITHUB_REF: '',
  GITHUB_SHA: '',
  FORGE_LOG: 'off',
};

/** A Forge "checkout" in a temp folder: the built CLI and the examples linked in. */
function checkout(): string {
  assert.ok(existsSync(join(REPO_ROOT, 'dist/src/cli/main.js')), 'run `npm run build` first: the walk-throughs use the built CLI');
  const dir = tempDir('forge-walkthrough-');
  symlinkSync(join(REPO_ROOT, 'dist'), join(dir, 'dist'));
  symlinkSync(join(REPO_ROOT, 'examples'), join(dir, 'examples'));
  symlinkSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
  return dir;
}

test('README Quickstart, as written', async (t) => {
  const dir = checkout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let script = shBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), '## Quickstart');
  const substitutions: [string | RegExp, string][] = [
    // `npm start` is `node dist/src/cli/main.js serve` (package.json); npm install has built it.
    [/^npm install && npm start.*$/m, `FORGE_PORT=${port} node dist/src/cli/main.js serve >/dev/null 2>&1 &\n${WAIT(url)}`],
    [/^npm test.*$/m, ''],
    ['http://127.0.0.1:8080', url],
  ];
  for (const [from, to] of substitutions) {
    assert.ok(typeof from === 'string' ? script.includes(from) : from.test(script), `the Quickstart holds ${from}`);
    script = typeof from === 'string' ? script.replaceAll(from, to) : script.replace(from, to);
  }
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.scripts.start, 'node dist/src/cli/main.js serve', 'the substitution for npm start is what npm start runs');
  const r = await runScript(script, dir, git);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /release\s+1 \(main-1\)/, 'forge release get printed the release');
  assert.match(r.out, /application\/vnd\.forge\.release\.resources\.v1\+tar/, 'forge release inspect printed the layers');
});

test('examples/monorepo/README.md, then README "A monorepo, end to end", as written', async (t) => {
  const dir = checkout();
  const registry = await startRegistry();
  const mono = tempDir('forge-walkthrough-mono-');
  rmSync(mono, { recursive: true, force: true });
  t.after(async () => {
    await registry.destroy();
    rmSync(dir, { recursive: true, force: true });
    rmSync(mono, { recursive: true, force: true });
  });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const example = shBlocks(
    readFileSync(join(REPO_ROOT, 'examples/monorepo/README.md'), 'utf8'),
    '## End to end against the embedded server',
  );
  const endToEnd = shBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), '## A monorepo, end to end');
  let script = `${example}\n${endToEnd}`;
  const substitutions: [string | RegExp, string][] = [
    // The test's registry stands in for `docker-registry serve registry.yml` on 127.0.0.1:5000.
    [/^docker-registry serve .*$/m, ''],
    ['127.0.0.1:5000', registry.host],
    ['http://127.0.0.1:8080', url],
    [/^(\$FORGE serve .*&)(.*)$/m, `FORGE_PORT=${port} $1$2\n${WAIT(url)}`],
    ['/tmp/mono', mono],
  ];
  for (const [from, to] of substitutions) {
    assert.ok(typeof from === 'string' ? script.includes(from) : from.test(script), `the walk-through holds ${from}`);
    script = typeof from === 'string' ? script.replaceAll(from, to) : script.replace(from, to);
  }
  // The example's web project names the registry 127.0.0.1:5000: the copy made by `cp -r` gets the test's.
  script = script.replace(
    /^(cp -r examples\/monorepo .*)$/m,
    `$1\nsed -i 's/127\\.0\\.0\\.1:5000/${registry.host}/' services/web/.forge/project.cue`,
  );
  const r = await runScript(script, dir, git);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^api +skipped|web: skipped: no input changed since release #1/m, 'the api-only commit skipped web');
  assert.match(r.out, /rollback/i);
});
