/**
 * How fast the built `forge` command line starts (issue 14, acceptance 4), each figure beside a
 * bare `node -e 0` measured in the same run:
 *  - `forge status` against a server answering at once (a stub speaking Forge's API): target
 *    < 300 ms from process start to exit; `forge --help` likewise;
 *  - `forge validate` in examples/monorepo (both projects evaluated by the CUE helper): target
 *    ≤ 1 s, as for a cold render;
 *  - `forge <command> --help` for every command: what each command's start costs before it does
 *    its own work (commands load their heavy parts only when they run);
 *  - the error cases (a port in use, a bad platform config, a server that is not Forge): the
 *    one-line explanation within 2 s;
 *  - cold `forge render` of each examples/monorepo project (new process, CUE helper started):
 *    target ≤ 1 s (acceptance 2).
 * Runs `node dist/src/cli/main.js`: build first (`npm run build`, or `npx tsc -p tsconfig.json`).
 *
 *   npm run bench -- cli        (or: node --import tsx bench/cli.ts)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { record } from './report.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'dist/src/cli/main.js');
const RUNS = 5;

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (or npx tsc -p tsconfig.json) first`);
if (statSync(CLI).mtimeMs < statSync(join(REPO, 'src/cli/main.ts')).mtimeMs)
  console.warn(`warning: ${CLI} is older than src/cli/main.ts: the figures are of the last build`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall time of one process, spawn to exit, ms; a non-zero exit is an error (with its stderr). */
function timeProcess(args: string[], cwd = REPO, expectCode = 0): Promise<number> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FORGE_TOKEN: 'x' } });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('exit', (code) =>
      code === expectCode ? done(performance.now() - t0) : fail(new Error(`node ${args.join(' ')}: exit ${code}: ${err}`)),
    );
  });
}

async function medianOf(args: string[], cwd?: string, expectCode = 0): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) out.push(await timeProcess(args, cwd, expectCode));
  return median(out);
}

// A server answering GET /api/v1/overview (what `forge status` reads) as Forge does, at once: the figure is the CLI's own time.
const running = {
  repository: 'acme/mono',
  project: 'api',
  release_number: 1,
  aliases: [{ alias: 'main-1', alias_type: 'branch' }],
  pinned: false,
};
const stub = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url?.startsWith('/api/v1/overview'))
    res.end(
      JSON.stringify({
        environments: [{ name: 'dev' }],
        items: [{ repository: 'acme/mono', project: 'api', environments: [{ environment: 'dev', running, latest: null }] }],
        total: 1,
        limit: 500,
        offset: 0,
        next: null,
      }),
    );
  else if (req.url?.startsWith('/api/v1/environments/orphans')) res.end(JSON.stringify({ items: [] }));
  else {
    res.statusCode = 404;
    res.end(JSON.stringify({ error: { code: 'not_found', message: 'not found' } }));
  }
});
await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
const server = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;

try {
  const bare = await medianOf(['-e', '0']);
  console.log(`bare node -e 0: median ${bare.toFixed(0)} ms of ${RUNS}`);

  const status = await medianOf([CLI, 'status', '--server', server, '--repository', 'acme/mono']);
  record({
    figure: 'cli: `forge status` (built, stub server)',
    value: status,
    unit: 'ms',
    baseline: bare,
    target: '< 300 ms',
    met: status < 300,
  });
  console.log(`forge status: median ${status.toFixed(0)} ms of ${RUNS} (target < 300 ms)`);

  const help = await medianOf([CLI, '--help']);
  record({ figure: 'cli: `forge --help`', value: help, unit: 'ms', baseline: bare, target: '< 300 ms', met: help < 300 });
  console.log(`forge --help: median ${help.toFixed(0)} ms of ${RUNS} (target < 300 ms)`);

  // `forge validate` in examples/monorepo: start, discovery, the CUE helper and both projects evaluated.
  const validate = await medianOf([CLI, 'validate'], join(REPO, 'examples/monorepo'));
  record({
    figure: 'cli: `forge validate` (examples/monorepo)',
    value: validate,
    unit: 'ms',
    baseline: bare,
    target: '<= 1000 ms',
    met: validate <= 1000,
  });
  console.log(`forge validate: median ${validate.toFixed(0)} ms of ${RUNS} (target <= 1000 ms)`);

  const commands = [
    'serve',
    'token create',
    'release create',
    'release list',
    'render',
    'validate',
    'login',
    'whoami',
    'deploy',
    'rollback',
    'status',
    'history',
    'diff',
    'approve',
    'audit',
    'doctor',
    'version',
  ];
  for (const c of commands) {
    const ms = await medianOf([CLI, ...c.split(' '), '--help']);
    record({ figure: `cli: start of \`forge ${c}\` (--help)`, value: ms, unit: 'ms', baseline: bare, target: '< 300 ms', met: ms < 300 });
    console.log(`forge ${c} --help: median ${ms.toFixed(0)} ms`);
  }

  // The error cases of issue 14: each a one-line explanation and a hint, target within 2 s.
  const busy = createNetServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const busyPort = (busy.address() as AddressInfo).port;
  const badConfig = join(mkdtempSync(join(tmpdir(), 'forge-bench-cli-')), 'forge.yaml');
  writeFileSync(badConfig, 'environments: [oops\n');
  const other = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found'));
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const errors: [string, string[]][] = [
    ['port in use', ['serve', '--host', '127.0.0.1', '--port', String(busyPort), '--data-dir', dirname(badConfig)]],
    ['bad platform config', ['serve', '--port', '0', '--data-dir', dirname(badConfig), '--config', badConfig]],
    [
      'a server that is not Forge',
      ['status', '--server', `http://127.0.0.1:${(other.address() as AddressInfo).port}`, '--repository', 'acme/mono'],
    ],
  ];
  for (const [what, args] of errors) {
    const ms = await medianOf([CLI, ...args], REPO, 1);
    record({ figure: `cli: error "${what}" explained`, value: ms, unit: 'ms', baseline: bare, target: '< 2000 ms', met: ms < 2000 });
    console.log(`${what}: median ${ms.toFixed(0)} ms to the explanation (target < 2000 ms)`);
  }
  busy.close();
  other.close();

  for (const p of ['services/api', 'services/web']) {
    const ms = await medianOf([CLI, 'render', p], join(REPO, 'examples/monorepo'));
    record({
      figure: `cli: cold \`forge render ${p}\` (built)`,
      value: ms,
      unit: 'ms',
      baseline: bare,
      target: '<= 1000 ms',
      met: ms <= 1000,
    });
    console.log(`forge render ${p}: median ${ms.toFixed(0)} ms (target <= 1000 ms)`);
  }
} finally {
  stub.close();
}
