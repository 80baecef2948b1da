/**
 * GET /overview (issue #18): per project and environment, what runs there and what the latest
 * release may do there, judged by the server's own rules. Its verdicts are POST
 * /policy-checks' for the same caller and pair; filters and paging (cursor beside
 * limit/offset/total) hold; GET /environments keeps one item per environment with a `next`.
 * The read models' answers are kept only while the audit log's head does not move.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OverviewPage, OverviewRow } from '../src/contract/index.js';
import { readAtHead } from '../src/services/read-model-cache.js';
import { appendAudit } from '../src/store/audit.js';
import { openPostgres } from '../src/store/db.js';
import { ENGINES, testDb } from './support/db.js';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';
import { makeRemote } from './support/gitops.js';
import { until } from './support/until.js';

const ENVS = ['dev', 'staging', 'production'];

async function page(f: Forge, token: string, query = ''): Promise<OverviewPage> {
  const r = await f.api('GET', `/overview${query}`, undefined, token);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

const cell = (row: OverviewRow | undefined, env: string) => row?.environments.find((c) => c.environment === env);
const row = (p: OverviewPage, project: string) => p.items.find((r) => r.project === project);

test('the overview: running releases, the verdicts of POST /policy-checks, filters, waits-for-me, and cursor paging', async (t) => {
  const repo = makeRemote({ 'README.md': 'gitops\n' });
  t.after(repo.cleanup);
  const f = await startForge({ env: { FORGE_GITOPS_URL: repo.remote } });
  t.after(() => f.stop());
  const ci = await f.token(['service-account'], 'ci');
  const alice = await f.token(['deployer:staging', 'deployer:production'], 'alice@acme.test');
  const bob = await f.token(['approver:production', 'developer'], 'bob@acme.test');
  const dev = await f.token(['developer'], 'dan@acme.test');
  const release = async (over: Record<string, unknown>, n: number) => {
    const r = await f.api('POST', '/releases', releaseBody(over, sha(n)), ci);
    assert.equal(r.status, 201, r.text);
  };
  const tagged = (tag: string) => ({ trigger: { type: 'tag', tag }, tags: [tag], tagging_strategy: 'tag-all' });

  await release(tagged('v1.0.0'), 1);
  const approved = await f.api(
    'POST',
    '/approvals',
    { repository: 'acme/mono', project: 'auth-service', release: '1', environment: 'production', justification: 'first' },
    bob,
  );
  assert.equal(approved.status, 201, approved.text);
  const deployed = await f.api(
    'POST',
    '/deployments',
    { repository: 'acme/mono', project: 'auth-service', environment: 'production', release: '1' },
    alice,
  );
  assert.equal(deployed.status, 201, deployed.text);
  await release(tagged('v1.1.0'), 2);
  await release({ project: 'billing' }, 30); // a branch push: production's policy does not take it
  await release({ repository: 'acme/web', project: 'catalog' }, 40);
  // every auto-deploy to dev has landed
  await until(async () => {
    const p = await page(f, dev);
    return p.items.length === 3 && p.items.every((r) => cell(r, 'dev')?.latest?.state === 'running');
  });

  const all = await page(f, dev);
  assert.deepEqual(
    all.environments.map((e) => e.name),
    ENVS,
  );
  assert.equal(all.environments[2].promotion_policy.requires_approval, true);
  assert.deepEqual(
    all.items.map((r) => `${r.repository}/${r.project}`),
    ['acme/mono/auth-service', 'acme/mono/billing', 'acme/web/catalog'],
  );
  assert.equal(all.total, 3);
  assert.equal(all.next, null);
  const auth = row(all, 'auth-service')!;
  assert.equal(auth.latest_release.release_number, 2);
  assert.deepEqual(
    auth.latest_release.aliases.map((a) => a.alias),
    ['2', 'v1.1.0'],
  );
  assert.deepEqual(
    auth.environments.map((c) => c.environment),
    ENVS,
  );
  assert.equal(cell(auth, 'dev')!.running!.release_number, 2);
  const prod = cell(auth, 'production')!;
  assert.equal(prod.running!.release_number, 1);
  assert.equal(prod.running!.deployed_by, 'alice@acme.test');
  assert.deepEqual(
    { ...prod.latest, failed: prod.latest!.failed.map((c) => c.name) },
    {
      release_number: 2,
      state: 'waiting',
      allowed: false,
      approvals: { given: 0, required: 1 },
      failed: ['approvals'],
      waits_for_me: false,
    },
  );
  assert.equal(cell(auth, 'staging')!.running, null);
  assert.equal(cell(auth, 'staging')!.latest!.state, 'deployable');
  const billing = cell(row(all, 'billing'), 'production')!;
  assert.equal(billing.latest!.state, 'refused');
  assert.match(billing.latest!.failed.find((c) => c.name === 'triggers')!.reason, /branch_push/);

  /** Every verdict equals the dry run's for the same caller, project, environment and release. */
  const sameAsDryRun = async (token: string) => {
    const p = await page(f, token);
    for (const r of p.items)
      for (const c of r.environments) {
        const dry = await f.api(
          'POST',
          '/policy-checks',
          { repository: r.repository, project: r.project, environment: c.environment, release: String(c.latest!.release_number) },
          token,
        );
        assert.equal(dry.status, 200, dry.text);
        const what = `${r.project} in ${c.environment}`;
        assert.equal(c.latest!.allowed, dry.body.allowed, what);
        assert.deepEqual(
          c.latest!.failed,
          dry.body.checks
            .filter((x: { ok: boolean }) => !x.ok)
            .map((x: { name: string; reason: string }) => ({ name: x.name, reason: x.reason })),
          what,
        );
      }
    return p;
  };
  await sameAsDryRun(dev);

  // waits for me: bob may approve production and has not approved #2; dan may not approve
  const forBob = await page(f, bob, '?waits_for_me=true');
  assert.deepEqual(
    forBob.items.map((r) => r.project),
    ['auth-service'],
  );
  assert.equal(forBob.total, 1);
  assert.equal(cell(forBob.items[0], 'production')!.latest!.waits_for_me, true);
  assert.equal((await page(f, dev, '?waits_for_me=true')).total, 0);
  assert.deepEqual(
    (await page(f, dev, '?waiting=true')).items.map((r) => r.project),
    ['auth-service'],
  );

  // bob approves #2: it no longer waits; alice may deploy it, bob may not (his own approval)
  const second = await f.api(
    'POST',
    '/approvals',
    { repository: 'acme/mono', project: 'auth-service', release: '2', environment: 'production', justification: 'SEC-42' },
    bob,
  );
  assert.equal(second.status, 201, second.text);
  assert.equal((await page(f, bob, '?waits_for_me=true')).total, 0);
  assert.equal((await page(f, dev, '?waiting=true')).total, 0);
  const forAlice = cell(row(await sameAsDryRun(alice), 'auth-service'), 'production')!.latest!;
  assert.deepEqual([forAlice.state, forAlice.allowed, forAlice.approvals], ['deployable', true, { given: 1, required: 1 }]);
  const forBobNow = cell(row(await sameAsDryRun(bob), 'auth-service'), 'production')!.latest!;
  assert.equal(forBobNow.state, 'refused');
  assert.match(forBobNow.failed[0].reason, /own approval does not count/);

  // filters: repository (without case), project, a piece of the name, one environment
  assert.deepEqual(
    (await page(f, dev, '?repository=ACME/Mono')).items.map((r) => r.project),
    ['auth-service', 'billing'],
  );
  assert.deepEqual(
    (await page(f, dev, '?project=catalog')).items.map((r) => r.repository),
    ['acme/web'],
  );
  const search = await page(f, dev, '?q=MONO/BIL');
  assert.deepEqual([search.total, search.items.map((r) => r.project)], [1, ['billing']]);
  const production = await page(f, dev, '?environment=production');
  assert.deepEqual(
    production.environments.map((e) => e.name),
    ['production'],
  );
  assert.ok(production.items.every((r) => r.environments.length === 1 && r.environments[0].environment === 'production'));

  // paging: the cursor walks every row once; offset and total keep working beside it
  const seen: string[] = [];
  let next: string | null = '';
  let pages = 0;
  while (next !== null) {
    const p: OverviewPage = await page(f, dev, `?limit=2${next ? `&cursor=${encodeURIComponent(next)}` : ''}`);
    assert.equal(p.total, 3);
    assert.equal(p.limit, 2);
    seen.push(...p.items.map((r) => r.project));
    next = p.next;
    pages++;
  }
  assert.deepEqual([pages, seen], [2, ['auth-service', 'billing', 'catalog']]);
  const second2 = await page(f, dev, '?limit=2&offset=2');
  assert.deepEqual([second2.offset, second2.total, second2.next, second2.items.map((r) => r.project)], [2, 3, null, ['catalog']]);
  const waitingPages = await page(f, bob, '?waiting=true&limit=1');
  assert.deepEqual([waitingPages.total, waitingPages.next], [0, null]);

  // bad input: a clear 400 naming the field
  const badCursor = await f.api('GET', '/overview?cursor=not-a-cursor', undefined, dev);
  assert.equal(badCursor.status, 400);
  assert.equal(badCursor.body.error.details.fields[0].path, 'cursor');
  const badEnv = await f.api('GET', '/overview?environment=qa', undefined, dev);
  assert.equal(badEnv.status, 400);
  assert.match(badEnv.body.error.message, /environment: "qa" is not configured \(expected one of dev, staging, production\)/);
  assert.equal((await f.api('GET', '/overview?limit=501', undefined, dev)).status, 400);
  assert.equal((await f.api('GET', '/overview')).status, 401);

  // GET /environments: one item per environment, with a cursor to the next page of environments
  const envs = await f.api('GET', '/environments?limit=2', undefined, dev);
  assert.equal(envs.status, 200, envs.text);
  assert.deepEqual([envs.body.items.map((e: { name: string }) => e.name), envs.body.total], [['dev', 'staging'], 3]);
  const rest = await f.api('GET', `/environments?limit=2&cursor=${encodeURIComponent(envs.body.next)}`, undefined, dev);
  assert.deepEqual([rest.body.items.map((e: { name: string }) => e.name), rest.body.next], [['production'], null]);
  const onlyProd = await f.api('GET', '/environments?environment=production&project=auth-service', undefined, dev);
  assert.deepEqual(
    onlyProd.body.items.map((e: { name: string; deployments: { release_number: number }[] }) => [
      e.name,
      e.deployments.map((d) => d.release_number),
    ]),
    [['production', [1]]],
  );
});

for (const engine of ENGINES) {
  test(`read models read again when the audit log's head moves, whichever connection moved it (${engine})`, async (t) => {
    const { db, url, cleanup } = await testDb(engine);
    t.after(cleanup);
    let reads = 0;
    const read = async () => ({ n: ++reads });
    assert.deepEqual(await readAtHead(db, 'k', read), { n: 1 });
    assert.deepEqual(await readAtHead(db, 'k', read), { n: 1 }, 'nothing changed: the answer kept');
    assert.deepEqual(await readAtHead(db, 'other', read), { n: 2 }, 'another query is read on its own');
    // a change audited in its transaction, here through another connection (another replica's, on PostgreSQL)
    const other = url ? await openPostgres(url) : db;
    await other.transaction((tx) => appendAudit(tx, { actor: 'ci', action: 'release.created', subject: 'acme/mono/x/sha' }));
    if (url) await other.close();
    assert.deepEqual(await readAtHead(db, 'k', read), { n: 3 });
    assert.deepEqual(await readAtHead(db, 'k', read), { n: 3 });
    // a change rolled back moves nothing
    await assert.rejects(
      db.transaction(async (tx) => {
        await appendAudit(tx, { actor: 'ci', action: 'pin.set', subject: 'dev/acme/mono/x' });
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.deepEqual(await readAtHead(db, 'k', read), { n: 3 });
    // a failed read is not kept
    await assert.rejects(
      readAtHead(db, 'failing', async () => {
        throw new Error('down');
      }),
      /down/,
    );
    assert.deepEqual(await readAtHead(db, 'failing', read), { n: 4 });
  });
}
