/**
 * Release trains across processes (issue #17, acceptance 3): two `forge serve` replicas on one
 * PostgreSQL and one GitOps remote deploy two trains with shared members at the same moment.
 * Every shared member ends on one train's release (never a mix), each train's own member is
 * there when its train landed, and the records agree with the GitOps repository.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePointer } from '../src/core/pointer.js';
import { releaseBody, sha } from './support/forge.js';
import { git, show } from './support/gitops.js';
import { replicaPair } from './support/replicas.js';
import { until } from './support/until.js';

const pathOf = (project: string) => `staging/apps/acme/mono/${project}/release.yaml`;
const member = (project: string, release: string) => ({ repository: 'acme/mono', project, release });

test("two trains with shared members deployed at once through two replicas on PostgreSQL: one train's pointers for every shared member, nothing lost", async (t) => {
  const { repo, a, b } = await replicaPair(t);
  const ci = await a.token(['service-account'], 'ci');
  const ops = await a.token(['deployer:staging'], 'olga');
  const shared = ['s1', 's2', 's3', 's4'];
  let n = 0;
  for (const p of [...shared, 'a-only', 'b-only'])
    for (let v = 0; v < 2; v++) {
      const r = await a.api('POST', '/releases', releaseBody({ project: p }, sha(++n)), ci);
      assert.equal(r.status, 201, r.text);
    }
  for (let round = 0; round < 4; round++) {
    const ta = await a.api('POST', '/trains', { name: `a-${round}`, members: [...shared, 'a-only'].map((p) => member(p, '1')) }, ops);
    const tb = await b.api(
      'POST',
      '/trains',
      { name: `b-${round}`, members: ['b-only', ...[...shared].reverse()].map((p) => member(p, '2')) },
      ops,
    );
    assert.equal(ta.status, 201, ta.text);
    assert.equal(tb.status, 201, tb.text);
    const [ra, rb] = await Promise.all([
      a.api('POST', `/trains/${ta.body.id}/deployments`, { environment: 'staging' }, ops),
      b.api('POST', `/trains/${tb.body.id}/deployments`, { environment: 'staging' }, ops),
    ]);
    for (const r of [ra, rb]) assert.ok(r.status === 201 || (r.status === 409 && r.body.error.code === 'conflict'), r.text);
    assert.ok(ra.status === 201 || rb.status === 201, 'at least one train landed');

    const numbers = shared.map((p) => parsePointer(show(repo.remote, 'main', pathOf(p))!).releaseNumber);
    assert.equal(new Set(numbers).size, 1, `a mix of trains: ${numbers.join(', ')}`);
    const winner = numbers[0] === 1 ? ta.body : tb.body;
    for (const [r, own, number] of [
      [ra, 'a-only', 1],
      [rb, 'b-only', 2],
    ] as const) {
      if (r.status !== 201) continue;
      assert.equal(r.body.status, 'deployed');
      assert.equal(parsePointer(show(repo.remote, 'main', pathOf(own))!).releaseNumber, number, `${own} is there`);
    }
    for (const p of shared) {
      const active = (await b.api('GET', `/deployments/staging/acme/mono/${p}`, undefined, ops)).body;
      assert.equal(parsePointer(show(repo.remote, 'main', pathOf(p))!).deploymentId, active.id, `${p}: git and the records agree`);
      assert.deepEqual(active.train, { id: winner.id, name: winner.name });
    }
    for (const tr of [ta.body, tb.body]) {
      const [d] = (await a.api('GET', `/trains/${tr.id}/deployments`, undefined, ops)).body.items;
      assert.notEqual(d.status, 'pending');
      const commits = new Set(d.members.map((m: { gitops_commit_sha: string | null }) => m.gitops_commit_sha));
      assert.equal(commits.size, 1, 'every member of a train deployment has the same commit, or none has');
    }
  }
});

// Test-only faults (FORGE_FAULT_PAUSE_BEFORE/AFTER_GITOPS_PUSH_MS) hold a train deployment right
// before or right after its one push, so the replica can be killed at exactly that point.
for (const when of ['before', 'after'] as const) {
  test(`a replica SIGKILLed ${when} pushing a train: another replica ${when === 'before' ? 'ends every member failed and pushes none alone' : 'records every member from the one commit, without a second commit'}`, async (t) => {
    const fault = when === 'before' ? 'FORGE_FAULT_PAUSE_BEFORE_GITOPS_PUSH_MS' : 'FORGE_FAULT_PAUSE_AFTER_GITOPS_PUSH_MS';
    const { repo, a, b } = await replicaPair(t, { env: { FORGE_DEPLOY_LEASE_MS: '1000' }, envA: { [fault]: '600000' }, killA: true });
    const ci = await b.token(['service-account'], 'ci');
    const ops = await b.token(['deployer:staging'], 'olga');
    let n = 0;
    for (const p of ['api', 'web']) assert.equal((await b.api('POST', '/releases', releaseBody({ project: p }, sha(++n)), ci)).status, 201);
    // each registration auto-deploys to dev on its own: those commits land before the train's tip is taken
    await until(() => ['api', 'web'].every((p) => show(repo.remote, 'main', `dev/apps/acme/mono/${p}/release.yaml`) !== null));
    const train = await b.api('POST', '/trains', { name: 'pair', members: [member('api', '1'), member('web', '1')] }, ops);
    assert.equal(train.status, 201, train.text);
    const latest = async () => (await b.api('GET', '/trains/pair/deployments', undefined, ops)).body.items[0];

    void a.api('POST', '/trains/pair/deployments', { environment: 'staging' }, ops).catch(() => {});
    await until(async () => (await latest())?.status === 'pending');
    if (when === 'after') await until(() => show(repo.remote, 'main', pathOf('web')) !== null);
    const tip = git(repo.remote, 'rev-parse', 'main');
    assert.equal(await a.kill('SIGKILL'), null);

    const ended = await until(async () => {
      const d = await latest();
      return d.status !== 'pending' && d;
    });
    assert.equal(git(repo.remote, 'rev-parse', 'main'), tip, 'no commit after the kill');
    if (when === 'before') {
      assert.equal(ended.status, 'failed');
      assert.match(ended.error, /pushed together or not at all/);
      for (const p of ['api', 'web']) assert.equal(show(repo.remote, 'main', pathOf(p)), null, `${p} was not pushed alone`);
      const again = await b.api('POST', '/trains/pair/deployments', { environment: 'staging' }, ops);
      assert.equal(again.status, 201, again.text);
      assert.equal(again.body.status, 'deployed');
    } else {
      assert.equal(ended.status, 'deployed');
      assert.equal(ended.gitops_commit_sha, tip);
      for (const m of ended.members) {
        assert.equal(m.status, 'active');
        assert.equal(parsePointer(show(repo.remote, 'main', pathOf(m.project))!).deploymentId, m.id);
      }
    }
  });
}
