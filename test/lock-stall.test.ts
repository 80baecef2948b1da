/**
 * A replica frozen while it holds a database lock that serialises replicas (issue #12, review of
 * item 2 "lease gap"): PostgreSQL ends the frozen holder's idle transaction
 * (FORGE_DATABASE_IDLE_TRANSACTION_MS) and waiters give up at FORGE_DATABASE_LOCK_WAIT_MS with a
 * 503, so the fleet never stops behind it; git's compare-and-swap keeps the frozen replica's
 * later push true.
 */

import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePointer } from '../src/core/pointer.js';
import { loadSettings } from '../src/server/settings.js';
import { openPostgres } from '../src/store/db.js';
import { LOCK_MIGRATIONS, lockFixed, lockSubject } from '../src/store/lock-keys.js';
import { freshPostgres } from './support/db.js';
import { type Forge, releaseBody, runCli, sha, spawnForge, tempDir } from './support/forge.js';
import { git, makeRemote, show } from './support/gitops.js';
import { until } from './support/until.js';

const target = (project: string) => ({ repository: 'acme/mono', project, environment: 'staging', release: '1' });
const pathOf = (project: string) => `staging/apps/acme/mono/${project}/release.yaml`;

async function release(f: Forge, ci: string, project: string, n: number) {
  const r = await f.api('POST', '/releases', releaseBody({ project }, sha(n)), ci);
  assert.equal(r.status, 201, r.text);
}

// Each bound alone keeps the fleet going: the frozen holder's transaction ended by PostgreSQL
// (B then lands), or B giving up its wait (503 with Retry-After). Without them (both 0, as
// before), B's deployment waits on A's advisory lock for as long as A stays frozen, and A is
// resumed only after B answered: the test's timeout is what fails then.
const cases = [
  { bound: 'the frozen holder is ended (FORGE_DATABASE_IDLE_TRANSACTION_MS)', lockWaitMs: '0', idleMs: '3000', b: 201 },
  { bound: 'the waiter gives up (FORGE_DATABASE_LOCK_WAIT_MS)', lockWaitMs: '1000', idleMs: '0', b: 503 },
] as const;

for (const c of cases)
  test(`a replica frozen (SIGSTOP) inside the GitOps turn, ${c.bound}: the other replica answers ${c.b}, and the frozen one ends in a state git agrees with`, {
    timeout: 240_000,
  }, async (t) => {
    const repo = makeRemote({ 'README.md': 'x\n' });
    const pg = await freshPostgres();
    const keyFile = join(tempDir(), 'token.key');
    const env = { FORGE_GITOPS_URL: repo.remote, FORGE_DATABASE_LOCK_WAIT_MS: c.lockWaitMs, FORGE_DATABASE_IDLE_TRANSACTION_MS: c.idleMs };
    const a = await spawnForge({ databaseUrl: pg.url, tokenKeyFile: keyFile, env });
    const b = await spawnForge({ databaseUrl: pg.url, tokenKeyFile: keyFile, env });
    t.after(async () => {
      if (a.proc.pid) process.kill(a.proc.pid, 'SIGCONT');
      await a.stop();
      await b.stop();
      await pg.drop();
      repo.cleanup();
    });
    const ci = await a.token(['service-account'], 'ci');
    const ops = await a.token(['operator'], 'olga');
    await release(a, ci, 'api', 1);
    await release(a, ci, 'web', 2); // each replica has its own OCI layout here: doctor (through A) reads both

    // The next push (A's) holds in the remote's pre-receive hook, so A is inside the turn when frozen.
    const slow = join(repo.remote, 'slow-next-push');
    const inHook = join(repo.remote, 'in-hook');
    writeFileSync(
      join(repo.remote, 'hooks/pre-receive'),
      `#!/bin/sh\ncat >/dev/null\nif [ -f "${slow}" ]; then rm -f "${slow}"; touch "${inHook}"; sleep 6; fi\nexit 0\n`,
      { mode: 0o755 },
    );
    writeFileSync(slow, '');
    const aAnswer = a.api('POST', '/deployments', target('api'), ops);
    await until(() => existsSync(inHook));
    process.kill(a.proc.pid!, 'SIGSTOP');

    const res = await fetch(`${b.url}/api/v1/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` },
      body: JSON.stringify(target('web')),
    });
    const text = await res.text();
    const bAnswer = JSON.parse(text);
    assert.equal(res.status, c.b, text);
    if (c.b === 201) {
      assert.equal(bAnswer.status, 'active', text);
      assert.equal(parsePointer(show(repo.remote, 'main', pathOf('web'))!).deploymentId, bAnswer.id);
    } else {
      assert.equal(bAnswer.error.code, 'gitops_unavailable', text);
      assert.match(bAnswer.error.message, /held the turn at the GitOps repository/, text);
      assert.ok(Number(res.headers.get('retry-after')) > 0, `Retry-After: ${res.headers.get('retry-after')}`);
      assert.equal(show(repo.remote, 'main', pathOf('web')), null, 'nothing pushed for B');
    }

    process.kill(a.proc.pid!, 'SIGCONT');
    const first = await aAnswer;
    assert.ok([201, 503].includes(first.status), first.text);
    // Whatever A answered, its deployment ends recorded as git has it.
    const api = await until(async () => {
      const h = await b.api('GET', '/deployments/staging/acme/mono/api/history', undefined, ops);
      const d = h.body?.items?.[0];
      return d && d.status !== 'pending' && d;
    });
    const pointer = show(repo.remote, 'main', pathOf('api'));
    if (api.status === 'active') {
      assert.equal(parsePointer(pointer!).deploymentId, api.id);
      assert.equal(show(repo.remote, api.gitops_commit_sha, pathOf('api')), pointer);
    } else {
      assert.equal(api.status, 'failed', JSON.stringify(api));
      assert.equal(pointer, null, 'a deployment recorded failed has no pointer in git');
    }
    assert.ok(git(repo.remote, 'rev-parse', 'main'));

    const doctor = await runCli(['doctor', '-o', 'json'], { env: { FORGE_URL: a.url, FORGE_TOKEN: ops } });
    assert.equal(doctor.code, 0, doctor.stderr + doctor.stdout);
    assert.deepEqual(JSON.parse(doctor.stdout).findings, []);
  });

test('the lock bounds: settings with their defaults, refused when PostgreSQL could not take them', () => {
  const s = loadSettings({ dataDir: '/tmp/forge-settings' }, {});
  assert.equal(s.databaseLockWaitMs, 120_000);
  assert.equal(s.databaseIdleTransactionMs, 60_000);
  const off = loadSettings(
    { dataDir: '/tmp/forge-settings' },
    { FORGE_DATABASE_LOCK_WAIT_MS: '0', FORGE_DATABASE_IDLE_TRANSACTION_MS: '0' },
  );
  assert.equal(off.databaseLockWaitMs, 0);
  assert.equal(off.databaseIdleTransactionMs, 0);
  for (const name of ['FORGE_DATABASE_LOCK_WAIT_MS', 'FORGE_DATABASE_IDLE_TRANSACTION_MS']) {
    assert.throws(() => loadSettings({}, { [name]: '-1' }), new RegExp(`${name} is "-1"; expected a non-negative integer`));
    assert.throws(() => loadSettings({}, { [name]: '2147483648' }), new RegExp(`${name} is "2147483648"; expected at most 2147483647`));
  }
});

test('every pooled PostgreSQL connection carries the bounds: a waiter on any serialising lock fails with 55P03, the migrations lock waits', async (t) => {
  const pg = await freshPostgres();
  const holder = await openPostgres(pg.url, 2);
  const waiter = await openPostgres(pg.url, 2, { lockWaitMs: 300, idleInTransactionMs: 120_000 });
  t.after(async () => {
    await holder.close();
    await waiter.close();
    await pg.drop();
  });
  const settings = await waiter.query<{ lock_timeout: string; idle: string }>(
    "select current_setting('lock_timeout') as lock_timeout, current_setting('idle_in_transaction_session_timeout') as idle",
  );
  assert.deepEqual(settings, [{ lock_timeout: '300ms', idle: '2min' }]);

  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let held!: () => void;
  const holding = new Promise<void>((r) => {
    held = r;
  });
  const holderDone = holder.transaction(async (tx) => {
    await lockSubject(tx, 'deploymentSlot', 'deploy:staging/acme/mono/api');
    await lockFixed(tx, LOCK_MIGRATIONS);
    held();
    await released;
  });
  await holding;
  await assert.rejects(
    waiter.transaction((tx) => lockSubject(tx, 'deploymentSlot', 'deploy:staging/acme/mono/api')),
    (err: { code?: string }) => err.code === '55P03',
  );
  // The migrations lock is not bounded by lock_timeout: it is had once the holder ends.
  const migrating = waiter.transaction((tx) => lockFixed(tx, LOCK_MIGRATIONS));
  await new Promise((r) => setTimeout(r, 600)); // twice the lock wait: a bounded wait would have failed by now
  release();
  await holderDone;
  await migrating;
});
