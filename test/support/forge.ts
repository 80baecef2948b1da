/**
 * A real `forge serve` for tests, as a separate process (so it can be SIGKILLed) or in this
 * process (faster, for plain API tests). Tokens are signed with the server's key file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadSettings } from '../../src/server/settings.js';
import { startServer } from '../../src/server/start.js';
import { loadOrCreateTokenKey, signToken, tokenKeyPath } from '../../src/server/tokens.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO_ROOT, 'src/cli/main.ts');
/** tsx by absolute URL, so a spawned forge works from any cwd (a temp checkout). */
export const TSX = import.meta.resolve('tsx');

export interface ForgeOptions {
  dataDir?: string;
  databaseUrl?: string;
  registry?: string;
  tokenKeyFile?: string;
  env?: Record<string, string>;
  args?: string[];
  /** Extra node flags for a spawned server (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /**
   * Run the built server (dist/src/cli/main.js, what `npm start` runs) instead of the sources
   * under tsx, whose transpiler adds some 70 MiB of RSS: for benches that measure memory.
   */
  built?: boolean;
}

export interface Forge {
  url: string;
  dataDir: string;
  token(roles: string[], subject?: string, ttl?: number): Promise<string>;
  /** fetch against the API with a token: api('GET', '/releases/...', body?, token) */
  api(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; text: string }>;
  stop(): Promise<void>;
}

export function tempDir(prefix = 'forge-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function makeApi(url: string): Forge['api'] {
  return async (method, path, body, token, headers = {}) => {
    const absolute = /^\/(api|v1|healthz|readyz|metrics)(\/|$)/.test(path);
    const res = await fetch(`${url}${absolute ? path : `/api/v1${path}`}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  };
}

function makeToken(keyFile: string): Forge['token'] {
  return async (roles, subject = 'tester@example.com', ttl = 3600) =>
    (await signToken(loadOrCreateTokenKey(keyFile), subject, roles, ttl)).token;
}

/**
 * The signing key replicas of one PostgreSQL installation share (as deploy/forge mounts one
 * Secret): a key file per database, so a second replica is not refused for an unknown key.
 */
export function sharedSigningKeyFile(databaseUrl: string): string {
  return join(tmpdir(), `forge-test-signing-key-${createHash('sha256').update(databaseUrl).digest('hex').slice(0, 16)}.pem`);
}

function envFor(o: ForgeOptions, dataDir: string): Record<string, string> {
  return {
    FORGE_DATA_DIR: dataDir,
    FORGE_LOG: 'off',
    ...(o.databaseUrl ? { FORGE_DATABASE_URL: o.databaseUrl, FORGE_SIGNING_KEY_FILE: sharedSigningKeyFile(o.databaseUrl) } : {}),
    ...(o.registry ? { FORGE_REGISTRY: o.registry } : {}),
    ...(o.tokenKeyFile ? { FORGE_TOKEN_KEY_FILE: o.tokenKeyFile } : {}),
    ...o.env,
  };
}

/** Runs the server in this process. */
export async function startForge(o: ForgeOptions = {}): Promise<Forge> {
  const dataDir = o.dataDir ?? tempDir();
  const env = { ...process.env, ...envFor(o, dataDir) };
  const server = await startServer(loadSettings({ port: 0, dataDir }, env), () => {});
  const keyFile = o.tokenKeyFile ?? tokenKeyPath(dataDir);
  return {
    url: server.address,
    dataDir,
    token: makeToken(keyFile),
    api: makeApi(server.address),
    stop: async () => {
      await server.stop();
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ForgeProcess extends Forge {
  proc: ChildProcess;
  stderr: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The built CLI (`npm run build`). */
export const BUILT_CLI = join(REPO_ROOT, 'dist/src/cli/main.js');

/** Runs `forge serve` as its own process (tsx, or the build with `built`), waiting until it listens. */
export async function spawnForge(o: ForgeOptions = {}): Promise<ForgeProcess> {
  const dataDir = o.dataDir ?? tempDir();
  const proc = spawn(
    process.execPath,
    [
      ...(o.nodeArgs ?? []),
      ...(o.built ? [BUILT_CLI] : ['--import', TSX, CLI]),
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      ...(o.args ?? []),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...envFor(o, dataDir) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  proc.stdout!.resume();
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`forge serve did not start in 60 s:\n${err}`)), 60_000);
    proc.stderr!.on('data', (chunk) => {
      err += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`forge serve exited with ${code}:\n${err}`));
    });
  });
  const keyFile = o.tokenKeyFile ?? tokenKeyPath(dataDir);
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  return {
    url,
    dataDir,
    proc,
    stderr: () => err,
    token: makeToken(keyFile),
    api: makeApi(url),
    kill,
    stop: async () => {
      await kill('SIGTERM');
      if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the forge CLI to completion. */
export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => {
    const proc = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    proc.stdin.end(opts.input ?? '');
    proc.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

/** A valid release request for tests; override what the test is about. */
export function releaseBody(over: Record<string, unknown> = {}, sha = 'a'.repeat(40)) {
  return {
    repository: 'acme/mono',
    project: 'auth-service',
    // branches: where the commit is, which the branch rule checks for tag and manual releases
    // (issue #13 item 1); ignored for a branch push.
    commit: { sha, author: 'Alice <alice@example.com>', message: 'change', committed_at: '2026-01-02T03:04:05Z', branches: ['main'] },
    trigger: { type: 'branch_push', branch: 'main' },
    resources: [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'auth' }, spec: { replicas: 1 } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'auth-config' }, data: { a: '1' } },
    ],
    ...over,
  };
}

export const sha = (n: number) => n.toString(16).padStart(40, '0');
