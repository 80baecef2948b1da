/**
 * Signing keys under replication (issue 13 item 5). The repro: `deploy/forge` ran two replicas
 * with an emptyDir each, each made its own key, and releases verified against one replica's key
 * only while `forge doctor` said everything agreed. Here, on PostgreSQL:
 *   - a replica with a key the installation does not know refuses to start (a generated one, a
 *     different file), one with the shared key starts;
 *   - one published key set (`forge signing-key list -o pem`) verifies every release, through
 *     a rotation (add the new key, move replicas to it, retire the old one);
 *   - doctor checks every release's signature against the set;
 *   - the upgrade path: releases signed by lost per-replica keys are found by doctor and
 *     re-signed by `forge signing-key resign` (a dry run first), after which they verify.
 */

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { loadOrCreateSigningKey } from '../src/signing/index.js';
import { freshPostgres } from './support/db.js';
import { type Forge, releaseBody, runCli, sha, startForge, tempDir } from './support/forge.js';
import { makeRemote } from './support/gitops.js';

const work = tempDir('forge-signing-keys-');
/** One GitOps repository every replica of a test writes to (the replicas' own embedded ones would disagree). */
const remote = makeRemote();
const remote2 = makeRemote();
process.on('exit', () => {
  remote.cleanup();
  remote2.cleanup();
  rmSync(work, { recursive: true, force: true });
});
const registry = `oci-layout:${join(work, 'registry')}`;
const keyFile = (name: string) => {
  const path = join(work, name, 'signing-key.pem');
  return { path, pub: `${path}.pub`, id: loadOrCreateSigningKey(path).keyId };
};

async function verifyWith(forge: Forge, token: string, project: string, ref: string, keys: string) {
  return runCli(['release', 'verify', project, ref, '--repository', 'acme/mono', '--public-key', keys, '-o', 'json'], {
    env: { FORGE_URL: forge.url, FORGE_TOKEN: token },
  });
}

async function publishedSet(forge: Forge, token: string, name: string): Promise<string> {
  const res = await runCli(['signing-key', 'list', '-o', 'pem'], { env: { FORGE_URL: forge.url, FORGE_TOKEN: token } });
  assert.equal(res.code, 0, res.stderr);
  const file = join(work, name);
  writeFileSync(file, res.stdout);
  return file;
}

async function doctor(forge: Forge, token: string) {
  const res = await runCli(['doctor', '-o', 'json'], { env: { FORGE_URL: forge.url, FORGE_TOKEN: token } });
  return { code: res.code, report: JSON.parse(res.stdout || '{}'), stderr: res.stderr };
}

describe('signing keys under replication (PostgreSQL)', () => {
  let url: string;
  let drop: () => Promise<void>;
  const running: Forge[] = [];
  const start = async (key: string | undefined, dataDir?: string) => {
    const f = await startForge({
      databaseUrl: url,
      registry,
      dataDir,
      env: { FORGE_SIGNING_KEY_FILE: key ?? '', FORGE_GITOPS_URL: remote.remote },
    });
    running.push(f);
    return f;
  };
  const k1 = keyFile('k1');
  const k2 = keyFile('k2');
  const k3 = keyFile('k3');

  before(async () => ({ url, drop } = await freshPostgres()));
  after(async () => {
    for (const f of running) await f.stop().catch(() => {});
    await drop();
  });

  test('a replica with a key the installation does not know refuses to start; one with the shared key starts', async () => {
    const a = await start(k1.path);
    const ops = await a.token(['operator'], 'olga@example.com');
    const set = await a.api('GET', '/signing-keys', undefined, ops);
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(
      set.body.items.map((k: { key_id: string }) => k.key_id),
      [k1.id],
      'the first replica registers its key',
    );

    // The repro: a second replica with its own emptyDir generates a key of its own.
    await assert.rejects(start(undefined), (err: Error) => {
      assert.match(
        err.message,
        /refusing to start: the signing key .*signing-key\.pem \([0-9a-f]{16}… ?\) is not one of this installation's keys/,
      );
      assert.match(err.message, /generated just now .*FORGE_SIGNING_KEY_FILE from a shared Secret/);
      return true;
    });
    // A different key file: refused too, with the way to rotate to it.
    await assert.rejects(start(k2.path), /is not one of this installation's keys .*forge signing-key add --public-key-file/);
    const b = await start(k1.path);
    assert.equal((await b.api('GET', '/healthz')).status, 200);
    assert.equal((await a.api('GET', '/signing-keys', undefined, ops)).body.items.length, 1, 'refused replicas added nothing');
  });

  test('one published set verifies every release, through a rotation; doctor checks each against the set', async () => {
    const [a] = running;
    const ci = await a.token(['service-account'], 'ci@example.com');
    const ops = await a.token(['operator'], 'olga@example.com');
    const dev = await a.token(['developer'], 'dev@example.com');
    assert.equal((await a.api('POST', '/releases', releaseBody({ project: 'web' }, sha(1)), ci)).status, 201);

    // Rotation: register the new key's public half first, then start a replica with it.
    const denied = await runCli(['signing-key', 'add', '--public-key-file', k3.pub], { env: { FORGE_URL: a.url, FORGE_TOKEN: dev } });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /needs the operator role/);
    const added = await runCli(['signing-key', 'add', '--public-key-file', k3.pub, '-o', 'json'], {
      env: { FORGE_URL: a.url, FORGE_TOKEN: ops },
    });
    assert.equal(added.code, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).key.key_id, k3.id);
    const again = await a.api('POST', '/signing-keys', { public_key: readFileSync(k3.pub, 'utf8') }, ops);
    assert.equal(again.status, 200, 'adding a known key again changes nothing');
    assert.equal(again.body.added, false);
    const rsa = await a.api('POST', '/signing-keys', { public_key: 'not a key' }, ops);
    assert.equal(rsa.status, 400);

    const c = await start(k3.path);
    const ciC = await c.token(['service-account'], 'ci@example.com');
    const r2 = await c.api('POST', '/releases', releaseBody({ project: 'api' }, sha(2)), ciC);
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.body.signature.key_id, k3.id, 'the rotated replica signs with the new key');

    const setFile = await publishedSet(a, dev, 'set-1.pem');
    for (const [project, ref] of [
      ['web', '1'],
      ['api', '1'],
    ]) {
      const v = await verifyWith(a, dev, project, ref, setFile);
      assert.equal(v.code, 0, `${project}: ${v.stderr}`);
      assert.equal(JSON.parse(v.stdout).verified, true);
    }
    const onlyOld = await verifyWith(a, dev, 'api', '1', k1.pub);
    assert.equal(onlyOld.code, 1, 'the old key alone does not verify the new release');
    assert.match(onlyOld.stderr, /not by the configured public key/);

    // Retire the old key: its releases still verify; a replica configured with it no longer starts.
    const retired = await runCli(['signing-key', 'retire', k1.id], { env: { FORGE_URL: a.url, FORGE_TOKEN: ops } });
    assert.equal(retired.code, 0, retired.stderr);
    await assert.rejects(start(k1.path), /was retired on .*no replica may sign with it/);
    const setAfter = await publishedSet(a, dev, 'set-2.pem');
    assert.equal((await verifyWith(a, dev, 'web', '1', setAfter)).code, 0, 'a release signed before the rotation still verifies');

    const healthy = await doctor(a, ops);
    assert.equal(healthy.code, 0, JSON.stringify(healthy.report.findings));
    assert.equal(healthy.report.checked.releases, 2);

    const audit = await a.api('GET', '/audit?limit=200', undefined, dev);
    const actions = audit.body.items.map((e: { action: string; subject: string }) => `${e.action} ${e.subject}`);
    for (const expected of [`signing_key.added ${k1.id}`, `signing_key.added ${k3.id}`, `signing_key.retired ${k1.id}`])
      assert.ok(actions.includes(expected), `${expected} in ${actions.join('\n')}`);
  });

  test('review F4: a replica still running with a retired key signs nothing more; doctor flags a signature made after its key was retired', async () => {
    const [a, , c] = running; // a and b sign with k1, retired above; c with k3
    const ci = await a.token(['service-account'], 'ci@example.com');
    const ops = await a.token(['operator'], 'olga@example.com');
    // The repro: POST /releases to the replica whose key was retired while it ran.
    const refused = await a.api('POST', '/releases', releaseBody({ project: 'late' }, sha(3)), ci);
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.body.error.code, 'signing_key_retired');
    assert.match(
      refused.body.error.message,
      /signing key \([0-9a-f]{16}…\) was retired on .*nothing was registered; restart the replica with a current key/,
    );
    assert.equal((await a.api('GET', `/releases/acme/mono/late/${sha(3)}`, undefined, ci)).status, 404, 'nothing registered');
    const resign = await a.api('POST', '/signing-keys/resign', {}, ops);
    assert.notEqual(resign.status, 200, `re-signing with the retired key is refused too: ${resign.text}`);
    // The replica with a current key registers it.
    const ok = await c.api(
      'POST',
      '/releases',
      releaseBody({ project: 'late' }, sha(3)),
      await c.token(['service-account'], 'ci@example.com'),
    );
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.signature.key_id, k3.id);

    // A registration already past the check when the key was retired (the race the check leaves): doctor names it.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await db.query(
        `update releases set signed_at = (select retired_at from signing_keys where key_id = $1) + interval '1 second'
         where project = 'web' and release_number = 1`,
        [k1.id],
      );
    } finally {
      await db.end();
    }
    const flagged = await doctor(a, ops);
    assert.equal(flagged.code, 1, flagged.stderr);
    const finding = flagged.report.findings.find((f: { check: string; subject: string }) => f.check === 'signatures');
    assert.ok(finding, JSON.stringify(flagged.report.findings));
    assert.equal(finding.subject, 'acme/mono/web release 1');
    assert.match(finding.problem, /made with the key [0-9a-f]{16}… on .*after that key was retired on/);
  });
});

describe('upgrade: releases signed by lost per-replica keys are re-signed (PostgreSQL)', () => {
  let url: string;
  let drop: () => Promise<void>;
  let owner: pg.Client;
  const running: Forge[] = [];
  const reg = `oci-layout:${join(work, 'registry-upgrade')}`;
  const start = async (key: string) => {
    const f = await startForge({ databaseUrl: url, registry: reg, env: { FORGE_SIGNING_KEY_FILE: key, FORGE_GITOPS_URL: remote2.remote } });
    running.push(f);
    return f;
  };
  before(async () => {
    ({ url, drop } = await freshPostgres());
    owner = new pg.Client({ connectionString: url });
    await owner.connect();
  });
  after(async () => {
    await owner.end();
    for (const f of running) await f.stop().catch(() => {});
    await drop();
  });

  test('doctor names them, resign --dry-run lists them, resign fixes them, and the set then verifies all', async () => {
    // Before the upgrade each replica had its own key and the installation kept no set: replay
    // that by clearing the set before each "old" replica starts.
    const lostA = keyFile('lost-a');
    const lostB = keyFile('lost-b');
    for (const [i, key] of [lostA, lostB].entries()) {
      if (i > 0) await owner.query('delete from signing_keys'); // a fresh database has no table before the first start
      const old = await start(key.path);
      const ci = await old.token(['service-account'], 'ci@example.com');
      const r = await old.api('POST', '/releases', releaseBody({ project: `svc-${i}` }, sha(10 + i)), ci);
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.signature.key_id, key.id);
      await old.stop();
      running.pop();
    }
    // The upgrade: the set as the migration leaves it (empty), then the installation key.
    await owner.query('delete from signing_keys');
    const installation = keyFile('installation');
    const forge = await start(installation.path);
    const ops = await forge.token(['operator'], 'olga@example.com');
    const dev = await forge.token(['developer'], 'dev@example.com');
    const env = { FORGE_URL: forge.url, FORGE_TOKEN: ops };

    const before = await doctor(forge, ops);
    assert.equal(before.code, 1, 'doctor no longer says everything agrees');
    const signatures = before.report.findings.filter((f: { check: string }) => f.check === 'signatures');
    assert.deepEqual(signatures.map((f: { subject: string }) => f.subject).sort(), [
      'acme/mono/svc-0 release 1',
      'acme/mono/svc-1 release 1',
    ]);
    for (const f of signatures)
      assert.match(f.problem, /signed by key [0-9a-f]{16}…, not by the configured public key .*forge signing-key resign/);

    const dry = await runCli(['signing-key', 'resign', '--dry-run', '-o', 'json'], { env });
    assert.equal(dry.code, 0, dry.stderr);
    const planned = JSON.parse(dry.stdout);
    assert.equal(planned.dry_run, true);
    assert.equal(planned.checked, 2);
    assert.deepEqual(planned.releases.map((r: { previous_key_id: string }) => r.previous_key_id).sort(), [lostA.id, lostB.id].sort());
    assert.equal((await doctor(forge, ops)).code, 1, 'a dry run changes nothing');

    const denied = await runCli(['signing-key', 'resign'], { env: { ...env, FORGE_TOKEN: dev } });
    assert.equal(denied.code, 1);
    const done = await runCli(['signing-key', 'resign'], { env });
    assert.equal(done.code, 0, done.stderr + done.stdout);
    assert.match(done.stdout, /checked 2 releases; 2 not verified by the key set, re-signed with/);

    const afterwards = await doctor(forge, ops);
    assert.equal(afterwards.code, 0, JSON.stringify(afterwards.report.findings));
    const setFile = await publishedSet(forge, dev, 'upgrade-set.pem');
    for (const project of ['svc-0', 'svc-1']) {
      const v = await verifyWith(forge, dev, project, '1', setFile);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(JSON.parse(v.stdout).keyId, installation.id);
      const r = await forge.api('GET', `/releases/acme/mono/${project}/1`, undefined, dev);
      assert.equal(r.body.signature.key_id, installation.id, 'the row records the new signature');
    }
    const again = await runCli(['signing-key', 'resign', '-o', 'json'], { env });
    assert.deepEqual(JSON.parse(again.stdout).releases, [], 'nothing left to re-sign');
    const audit = await forge.api('GET', '/audit?limit=200', undefined, dev);
    const resigned = audit.body.items.filter((e: { action: string }) => e.action === 'release.resigned');
    assert.equal(resigned.length, 2);
    assert.equal(resigned[0].actor, 'olga@example.com');
  });
});
