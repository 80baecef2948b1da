/** The GitOps writer over https:// with a token, against git's own smart-HTTP server (git http-backend) behind a token check. */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ForgeError } from '../src/core/errors.js';
import { resolveRemote } from '../src/gitops/remote.js';
import { GitOpsWriter } from '../src/gitops/writer.js';
import { makeRemote, show } from './support/gitops.js';

const TOKEN = 's3cret-token';

function gitHttpServer(projectRoot: string) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    seen.push(auth);
    if (auth !== `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="gitops"' }).end();
      return;
    }
    const url = new URL(req.url!, 'http://x');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'forge',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: (req.headers['git-protocol'] as string) ?? '',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const [k, ...v] = line.split(':');
        if (k.toLowerCase() === 'status') status = Number(v.join(':').trim().split(' ')[0]);
        else res.setHeader(k, v.join(':').trim());
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
  });
  return { server, seen };
}

test('https:// with a token: the token goes in an Authorization header (never the URL), fetch and push work, a wrong token is refused for good (gitops_rejected, issue #12 item 5)', async (t) => {
  const { root, remote, cleanup } = makeRemote({ 'README.md': 'x\n' });
  t.after(cleanup);
  const { server, seen } = gitHttpServer(dirname(remote));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${remote.split('/').pop()}`;

  const w = await GitOpsWriter.open({
    remote: resolveRemote({ url, dataDir: root, token: TOKEN }),
    branch: 'main',
    cacheDir: join(root, 'cache'),
    author: 'Forge <f@x>',
  });
  t.after(() => w.close());
  const landed = await w.submit({ path: 'dev/apps/acme/mono/api/release.yaml', content: 'over https\n', message: 'deploy over https' });
  assert.equal(show(remote, 'main', 'dev/apps/acme/mono/api/release.yaml'), 'over https\n');
  assert.equal(landed.unchanged, false);
  assert.ok(seen.length > 0 && seen.every((h) => h.startsWith('Basic ')));

  const bad = await GitOpsWriter.open({
    remote: resolveRemote({ url, dataDir: root, token: 'wrong' }),
    branch: 'main',
    cacheDir: join(root, 'cache-bad'),
    author: 'Forge <f@x>',
    retry: { attempts: 2, baseMs: 1, maxMs: 2 },
  });
  t.after(() => bad.close());
  await assert.rejects(
    bad.submit({ path: 'dev/apps/acme/mono/api/release.yaml', content: 'no\n', message: 'no' }),
    (e: unknown) => e instanceof ForgeError && e.code === 'gitops_rejected' && !e.message.includes('wrong'),
  );
});
