/** The GitOps writer over ssh:// with a key file and a pinned host key, against a real sshd on a loopback port. */

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { resolveRemote } from '../src/gitops/remote.js';
import { GitOpsWriter } from '../src/gitops/writer.js';
import { makeRemote, show } from './support/gitops.js';

const SSHD = '/usr/sbin/sshd';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

async function listening(port: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = createConnection({ port, host: '127.0.0.1' }, () => {
        c.end();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('ssh:// with FORGE_GITOPS_SSH_KEY_FILE and a known_hosts file: fetch and push work; another key is refused for good (gitops_rejected, issue #12 item 5)', async (t) => {
  const { root, remote, cleanup } = makeRemote({ 'README.md': 'x\n' });
  t.after(cleanup);
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  for (const k of ['host', 'client', 'stranger']) keygen(join(root, k));
  writeFileSync(join(root, 'authorized_keys'), readFileSync(join(root, 'client.pub')));
  chmodSync(join(root, 'authorized_keys'), 0o600);
  const port = await freePort();
  writeFileSync(join(root, 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(join(root, 'host.pub'), 'utf8')}`);
  writeFileSync(
    join(root, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(root, 'host')}`,
      `AuthorizedKeysFile ${join(root, 'authorized_keys')}`,
      `PidFile ${join(root, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${userInfo().username}`,
    ].join('\n'),
  );
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation directory
  const sshd = spawn(SSHD, ['-D', '-e', '-f', join(root, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  sshd.stderr!.on('data', (c) => (log += c));
  t.after(() => {
    sshd.kill();
  });
  await Promise.race([
    listening(port),
    new Promise((_, fail) => sshd.on('exit', (code) => fail(new Error(`sshd exited ${code}: ${log}`)))),
  ]);

  const url = `ssh://${userInfo().username}@127.0.0.1:${port}${remote}`;
  const w = await GitOpsWriter.open({
    remote: resolveRemote({ url, dataDir: root, sshKeyFile: join(root, 'client'), knownHostsFile: join(root, 'known_hosts') }),
    branch: 'main',
    cacheDir: join(root, 'cache'),
    author: 'Forge <f@x>',
  });
  t.after(() => w.close());
  await w.submit({ path: 'prod/apps/acme/mono/api/release.yaml', content: 'over ssh\n', message: 'deploy over ssh' });
  assert.equal(show(remote, 'main', 'prod/apps/acme/mono/api/release.yaml'), 'over ssh\n');

  const stranger = await GitOpsWriter.open({
    remote: resolveRemote({ url, dataDir: root, sshKeyFile: join(root, 'stranger'), knownHostsFile: join(root, 'known_hosts') }),
    branch: 'main',
    cacheDir: join(root, 'cache-stranger'),
    author: 'Forge <f@x>',
    retry: { attempts: 2, baseMs: 1, maxMs: 2 },
  });
  t.after(() => stranger.close());
  await assert.rejects(
    stranger.submit({ path: 'prod/apps/acme/mono/api/release.yaml', content: 'no\n', message: 'no' }),
    (e: unknown) => e instanceof ForgeError && e.code === 'gitops_rejected',
  );
  assert.equal(show(remote, 'main', 'prod/apps/acme/mono/api/release.yaml'), 'over ssh\n');
});
