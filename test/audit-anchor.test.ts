/**
 * The audit chain anchored in git (issue 13 item 8): every GitOps commit Forge makes carries
 * `Forge-Audit-Head: <seq> <hash>`, and `forge audit verify` checks the database's chain against
 * those anchors. Removing the newest entries up to an anchored one, or rewriting the chain into
 * a new, self-consistent one, is found; commits from before the anchors (no trailer) leave the
 * older history valid; what was written after the last commit has only the chain (docs).
 * Tampering is done as the table owner, lifting the append-only trigger, as an attacker with
 * the owner's credentials could.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type AuditEntry, entryHash, GENESIS_HASH } from '../src/core/audit-chain.js';
import { freshPostgres } from './support/db.js';
import { eventually } from './support/eventually.js';
import { type Forge, releaseBody, runCli, sha, startForge } from './support/forge.js';
import { commitOutside, git, makeRemote } from './support/gitops.js';

describe('audit chain anchored in GitOps commits (PostgreSQL)', () => {
  let forge: Forge;
  let drop: () => Promise<void>;
  let cleanupRemote: () => void;
  let remote: string;
  let owner: pg.Client;
  let env: Record<string, string>;
  let saved: AuditEntry[];

  const entries = async () => (await owner.query<AuditEntry>('select * from audit_log order by seq')).rows;
  /** Puts `rows` back as the whole log (the trigger lifted meanwhile). */
  const replaceLog = async (rows: AuditEntry[]) => {
    await owner.query('alter table audit_log disable trigger audit_log_append_only');
    await owner.query('alter table audit_log disable trigger audit_log_no_truncate');
    await owner.query('delete from audit_log');
    for (const e of rows)
      await owner.query(
        'insert into audit_log (seq, at, actor, action, subject, details, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8)',
        [e.seq, e.at, e.actor, e.action, e.subject, JSON.stringify(e.details), e.prev_hash, e.hash],
      );
    await owner.query('alter table audit_log enable trigger audit_log_append_only');
    await owner.query('alter table audit_log enable trigger audit_log_no_truncate');
  };
  const anchorsInGit = () =>
    git(remote, 'log', '--format=%H %(trailers:key=Forge-Audit-Head,valueonly,separator=%x2C)', 'main')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((p) => p.length === 3)
      .map(([commit, seq, hash]) => ({ commit, seq: Number(seq), hash }));

  before(async () => {
    ({ remote, cleanup: cleanupRemote } = makeRemote());
    // A commit from before anchoring existed: no trailer. History it covers stays valid.
    commitOutside(remote, { 'README.md': 'gitops\n' }, 'seed (no Forge-Audit-Head)');
    let url: string;
    ({ url, drop } = await freshPostgres());
    forge = await startForge({ databaseUrl: url, env: { FORGE_GITOPS_URL: remote } });
    owner = new pg.Client({ connectionString: url });
    await owner.connect();
    const ci = await forge.token(['service-account'], 'ci@example.com');
    env = { FORGE_URL: forge.url, FORGE_TOKEN: await forge.token(['developer'], 'dev@example.com') };
    for (const [i, project] of ['web', 'api', 'worker'].entries()) {
      const r = await forge.api('POST', '/releases', releaseBody({ project }, sha(i + 1)), ci);
      assert.equal(r.status, 201, r.text);
      await eventually(`${project} active in dev`, async () => {
        const d = await forge.api('GET', `/deployments/dev/acme/mono/${project}`, undefined, ci);
        return d.body?.status === 'active';
      });
    }
    saved = await entries();
  });
  after(async () => {
    await owner.end();
    await forge.stop();
    await drop();
    cleanupRemote();
  });

  test('every Forge commit carries the audit head it was built on; verify compares them all', async () => {
    const forgeCommits = git(remote, 'log', '--format=%H %an', 'main')
      .split('\n')
      .filter((l) => l.endsWith(' Forge'));
    assert.ok(forgeCommits.length >= 3, forgeCommits.join('\n'));
    const anchors = anchorsInGit();
    assert.equal(anchors.length, forgeCommits.length, 'one anchor per Forge commit, none on the outside commit');
    const bySeq = new Map(saved.map((e) => [Number(e.seq), e.hash]));
    for (const a of anchors) assert.equal(bySeq.get(a.seq), a.hash, `commit ${a.commit} anchors entry ${a.seq} as it is`);
    assert.ok(anchors[0].seq < saved.length, 'entries were written after the last commit (deployment.active)');

    const ok = await runCli(['audit', 'verify', '-o', 'json'], { env });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const check = JSON.parse(ok.stdout);
    assert.equal(check.ok, true);
    assert.equal(check.checked, saved.length);
    assert.equal(check.anchors.checked, anchors.length);
    assert.deepEqual(check.anchors.newest, anchors[0]);
    const text = await runCli(['audit', 'verify'], { env });
    assert.match(text.stdout, new RegExp(`ok: ${saved.length} entries, chain intact; ${anchors.length} anchors in GitOps commits`));
  });

  test('removing the newest entries up to an anchored one is found, whichever anchor it reaches', async () => {
    const anchors = anchorsInGit();
    for (const cut of [anchors[0].seq, anchors[anchors.length - 1].seq, 1]) {
      await replaceLog(saved.filter((e) => e.seq < cut));
      const intact = await owner.query('select count(*)::int as n from audit_log');
      assert.equal(intact.rows[0].n, cut - 1);
      const res = await runCli(['audit', 'verify', '-o', 'json'], { env });
      assert.equal(res.code, 1, `cut at ${cut}: ${res.stdout}`);
      const check = JSON.parse(res.stdout);
      assert.equal(check.ok, false);
      assert.equal(check.first_broken, cut);
      assert.match(
        check.reason,
        new RegExp(`entries ${cut} to ${anchors[0].seq} were removed: GitOps commit ${anchors[0].commit.slice(0, 12)}`),
      );
      const text = await runCli(['audit', 'verify'], { env });
      assert.equal(text.code, 1);
      assert.match(text.stdout, new RegExp(`broken at entry ${cut}: entries ${cut} to ${anchors[0].seq} were removed`));
    }
    await replaceLog(saved);
    assert.equal((await runCli(['audit', 'verify'], { env })).code, 0, 'the restored log verifies again');
  });

  test('a rewritten chain that is consistent in itself is found at the first anchor it contradicts', async () => {
    const anchors = anchorsInGit();
    const oldest = anchors[anchors.length - 1];
    // Edit the first entry, then re-hash every later one: the chain alone is intact again.
    let prev = GENESIS_HASH;
    const forged = saved.map((e) => {
      const edited = { ...e, actor: e.seq === 1 ? 'mallory@example.com' : e.actor, prev_hash: prev };
      const hash = entryHash(edited);
      prev = hash;
      return { ...edited, hash };
    });
    await replaceLog(forged);
    const res = await runCli(['audit', 'verify', '-o', 'json'], { env });
    assert.equal(res.code, 1, res.stdout);
    const check = JSON.parse(res.stdout);
    assert.equal(check.first_broken, oldest.seq);
    assert.match(check.reason, new RegExp(`entry ${oldest.seq} is not the entry GitOps commit ${oldest.commit.slice(0, 12)} anchored`));
    await replaceLog(saved);
  });

  test('entries written after the last commit have only the chain: removing just those is not seen (docs/operations.md)', async () => {
    const newest = anchorsInGit()[0];
    await replaceLog(saved.filter((e) => e.seq <= newest.seq));
    const res = await runCli(['audit', 'verify', '-o', 'json'], { env });
    assert.equal(res.code, 0, res.stdout);
    assert.equal(JSON.parse(res.stdout).checked, newest.seq);
    await replaceLog(saved);
    // The next commit anchors them: a new release auto-deploys, and its commit carries the new head.
    const ci = await forge.token(['service-account'], 'ci@example.com');
    assert.equal((await forge.api('POST', '/releases', releaseBody({ project: 'web' }, sha(9)), ci)).status, 201);
    const next = await eventually('a new anchored commit', () => {
      const a = anchorsInGit()[0];
      return a.seq > newest.seq ? a : undefined;
    });
    assert.ok(next.seq >= saved.length, 'the new anchor covers the entries that had none');
  });
});
