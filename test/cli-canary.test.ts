/**
 * No secret in the CLI's output (issue 19 item 1). Every `forge` command is run with a canary
 * value in every secret setting — the bearer token, registry, GitOps and database passwords,
 * webhook secrets and URL tokens, Docker credentials, and key files that are symlinks to a
 * secret — four ways: `--help`, bad arguments, against a dead server and against a live one.
 * The canary (plain, URL-encoded, or base64 in a Basic credential) must never appear in stdout
 * or stderr, whatever the exit code.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI, type ForgeProcess, releaseBody, spawnForge, TSX, tempDir } from './support/forge.js';

const C = {
  token: 'canary-bearer-4f1c9e',
  registry: 'canary-registry-pw-8a2b',
  gitops: 'canary-gitops-token-77e1',
  database: 'canary-db-pw-31d0',
  webhookSecret: 'canary-webhook-secret-5c6d',
  webhookUrl: 'canary-webhook-url-token-09aa',
  docker: 'canary-docker-pw-e4e4',
  keyFile: 'canary-key-file-contents-b7b7',
  cue: 'canary-cue-registry-pw-2f2f',
};
const forms = (secret: string, user?: string) => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString('base64'),
  ...(user ? [Buffer.from(`${user}:${secret}`).toString('base64')] : []),
];

let dir: string;
let server: ForgeProcess;
let liveToken: string;
let env: Record<string, string>;

before(async () => {
  dir = tempDir('forge-canary-');
  // A file holding a secret, reached through symlinks named as key files.
  const secretFile = join(dir, 'secret.txt');
  writeFileSync(secretFile, `${C.keyFile}\n`, { mode: 0o600 });
  for (const name of ['signing.key', 'signing.pub', 'ssh.key', 'token.key', 'webhooks.json', 'role-map.yaml'])
    symlinkSync(secretFile, join(dir, name));
  const docker = join(dir, 'docker');
  mkdirSync(docker);
  writeFileSync(
    join(docker, 'config.json'),
    JSON.stringify({ auths: { '127.0.0.1:9': { auth: Buffer.from(`user:${C.docker}`).toString('base64') } } }),
  );
  mkdirSync(join(dir, 'work'));
  server = await spawnForge();
  liveToken = await server.token(['operator', 'service-account'], 'canary@example.com');
  assert.equal((await server.api('POST', '/releases', releaseBody(), liveToken)).status, 201);
  env = {
    FORGE_TOKEN: C.token,
    FORGE_REGISTRY: '127.0.0.1:9',
    FORGE_REGISTRY_USERNAME: 'user',
    FORGE_REGISTRY_PASSWORD: C.registry,
    FORGE_GITOPS_URL: 'https://127.0.0.1:9/acme/gitops.git',
    FORGE_GITOPS_TOKEN: C.gitops,
    FORGE_DATABASE_URL: `postgres://forge:${C.database}@127.0.0.1:9/forge`,
    FORGE_WEBHOOKS: JSON.stringify([{ name: 'w', url: `http://127.0.0.1:9/h?token=${C.webhookUrl}`, secret: C.webhookSecret }]),
    FORGE_SIGNING_KEY_FILE: join(dir, 'signing.key'),
    FORGE_SIGNING_PUBLIC_KEY_FILE: join(dir, 'signing.pub'),
    FORGE_GITOPS_SSH_KEY_FILE: join(dir, 'ssh.key'),
    FORGE_TOKEN_KEY_FILE: join(dir, 'token.key'),
    CUE_REGISTRY: `127.0.0.1:9`,
    DOCKER_CONFIG: docker,
    FORGE_CONFIG_DIR: join(dir, 'config'),
    FORGE_DATA_DIR: join(dir, 'data'),
    FORGE_DEBUG: '1', // details and stacks too
    ARGOCD_APP_NAME: 'app',
    ARGOCD_APP_NAMESPACE: 'argocd',
  };
});
after(async () => {
  await server.stop();
});

function forge(args: string[], extra: Record<string, string>) {
  return new Promise<{ code: number | null; out: string }>((ok) => {
    const proc = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
      cwd: join(dir, 'work'),
      env: { ...process.env, ...env, ...extra },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (out += c));
    proc.stdin.end('');
    // A command that waits (a device-flow log-in, a stream) is stopped: what it printed so far is checked.
    const timer = setTimeout(() => proc.kill('SIGTERM'), 10_000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      ok({ code, out });
    });
  });
}

/** Every leaf command, from `forge --help` and each group's `--help`, with its usage line. */
async function commands(): Promise<{ path: string[]; usage: string; help: string }[]> {
  const list = (help: string) =>
    [...(help.split(/^Commands:$/m)[1] ?? '').matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  const leaves: { path: string[]; usage: string; help: string }[] = [];
  const visit = async (path: string[]) => {
    const { out } = await forge([...path, '--help'], {});
    const subs = list(out);
    if (subs.length === 0 || path.length > 0) {
      const usage = /^Usage: forge (.*)$/m.exec(out)?.[1] ?? '';
      if (path.length > 0) leaves.push({ path, usage, help: out });
    }
    if (path.length < 2) for (const sub of subs) await visit([...path, sub]);
  };
  await visit([]);
  return leaves;
}

/** Plausible arguments from a usage line: `<env> <project> <ref>` → staging auth-service 1. */
function argsFor(usage: string): string[] {
  return [...usage.matchAll(/<([^>.]+)(\.\.\.)?>/g)].map(([, name]) =>
    /env/.test(name) ? 'staging' : /project/.test(name) && !/dir/.test(name) ? 'auth-service' : /ref|release/.test(name) ? '1' : 'x',
  );
}

async function pool<T>(items: T[], size: number, fn: (item: T) => Promise<void>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: size }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

test('no command prints a secret: --help, bad arguments, a dead server, a live server', async () => {
  const leaves = await commands();
  assert.ok(leaves.length >= 20, `the commands were found: ${leaves.map((l) => l.path.join(' ')).join(', ')}`);
  const secrets = [...Object.values(C).flatMap((s) => forms(s, 'user')), ...forms(C.database, 'forge')];
  const runs: { what: string; args: string[]; extra: Record<string, string> }[] = [];
  const leaks: string[] = [];
  const check = (what: string, out: string, extra: string[] = []) => {
    for (const s of [...secrets, ...extra]) {
      const at = out.indexOf(s);
      if (at >= 0) leaks.push(`${what}: ${JSON.stringify(out.slice(Math.max(0, at - 200), at + s.length + 50))}`);
    }
  };
  for (const { path, usage, help } of leaves) {
    const name = path.join(' ');
    check(`${name} --help`, help);
    runs.push({
      what: `${name} with bad arguments`,
      args: [...path, '--no-such-option', ...argsFor(usage), 'a', 'b', 'c', 'd'],
      extra: {},
    });
    if (name === 'serve' || name.startsWith('cmp')) {
      // serve would start a server; cmp reads the pointer folder it is run in (test/cmp-* covers it live).
      runs.push({ what: `${name} (no server)`, args: [...path, '--port', 'not-a-port'], extra: {} });
      continue;
    }
    runs.push({
      what: `${name} against a dead server`,
      args: [...path, ...argsFor(usage), '-o', 'json'],
      extra: { FORGE_URL: 'http://127.0.0.1:9' },
    });
    runs.push({
      what: `${name} against a live server`,
      args: [...path, ...argsFor(usage)],
      extra: { FORGE_URL: server.url, FORGE_TOKEN: liveToken },
    });
  }
  await pool(runs, 3, async (run) => {
    const { out } = await forge(run.args, run.extra);
    check(run.what, out, run.extra.FORGE_TOKEN ? forms(run.extra.FORGE_TOKEN) : []);
  });
  assert.deepEqual(leaks, [], `secrets printed:\n${leaks.join('\n')}`);
});
