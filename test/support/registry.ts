/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on a free
 * loopback port with its own config and storage in a temp dir. Optional basic auth
 * (bcrypt htpasswd) or token auth (a tiny token server in this process signing RS256 JWTs
 * whose `x5c` header carries a self-signed certificate the registry trusts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { importPKCS8, SignJWT } from 'jose';

export interface TestRegistry {
  host: string;
  storageDir: string;
  username?: string;
  password?: string;
  /** Stops the registry process (storage and port stay). */
  stop(): Promise<void>;
  /** Starts it again on the same port and storage. */
  start(): Promise<void>;
  /** Stops everything and removes the temp dir. */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRegistry(opts: { auth?: 'basic' | 'token' } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-registry-'));
  const storageDir = join(dir, 'storage');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const username = opts.auth ? 'forge-ci' : undefined;
  const password = opts.auth ? `pw-${randomUUID()}` : undefined;
  let authConfig = '';
  let tokenServer: Server | undefined;

  if (opts.auth === 'basic') {
    await writeFile(join(dir, 'htpasswd'), `${username}:${bcrypt.hashSync(password!, 10)}\n`);
    authConfig = `auth:\n  htpasswd:\n    realm: forge-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.auth === 'token') {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=forge-test-token-issuer',
        '-keyout',
        join(dir, 'token.key'),
        '-out',
        join(dir, 'token.crt'),
      ],
      { stdio: 'ignore' },
    );
    const certPem = await readFile(join(dir, 'token.crt'), 'utf8');
    const certDer = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
    const key = await importPKCS8(await readFile(join(dir, 'token.key'), 'utf8'), 'RS256');
    tokenServer = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url!, 'http://token');
        const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
          return;
        }
        const access = url.searchParams
          .getAll('scope')
          .flatMap((s) => s.split(' '))
          .filter(Boolean)
          .map((scope) => {
            const [type, ...rest] = scope.split(':');
            const actions = rest.pop()!.split(',');
            return { type, name: rest.join(':'), actions };
          });
        const token = await new SignJWT({ access })
          .setProtectedHeader({ alg: 'RS256', x5c: [certDer] })
          .setIssuer('forge-test-issuer')
          .setSubject(username!)
          .setAudience(url.searchParams.get('service') ?? '')
          .setIssuedAt()
          .setNotBefore('0s')
          .setExpirationTime('5m')
          .setJti(randomUUID())
          .sign(key);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
      })().catch((err) => res.writeHead(500).end(String(err)));
    });
    await new Promise<void>((resolve) => tokenServer!.listen(0, '127.0.0.1', resolve));
    const tokenPort = (tokenServer.address() as AddressInfo).port;
    authConfig =
      `auth:\n  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: forge-test-registry\n` +
      `    issuer: forge-test-issuer\n    rootcertbundle: ${join(dir, 'token.crt')}\n`;
  }

  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storageDir}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: ${host}
  secret: ${randomUUID()}
${authConfig}`,
  );

  let child: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    const proc = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-8000);
    });
    proc.stderr!.on('data', (d: Buffer) => {
      output = (output + d.toString()).slice(-8000);
    });
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) throw new Error(`docker-registry exited with ${proc.exitCode}:\n${output}`);
      const up = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.status === 200 || r.status === 401,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
    throw new Error(`docker-registry did not answer on ${host} within 10 s:\n${output}`);
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  // Safety net for callers that only stop() or crash: no registry process or temp dir outlives the test process.
  const onExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  try {
    await start();
  } catch (err) {
    process.removeListener('exit', onExit);
    tokenServer?.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host,
    storageDir,
    username,
    password,
    stop,
    start,
    destroy: async () => {
      process.removeListener('exit', onExit);
      await stop();
      if (tokenServer) await new Promise((resolve) => tokenServer!.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
