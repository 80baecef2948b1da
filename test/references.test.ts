/**
 * References that cannot be hijacked (issue #13 items 3–4, issue #12 item 9), through the API:
 * a full sha always means its commit, an alias never silently shadows a number or a sha prefix,
 * names git refuses are a 400 naming the field, and a derived branch alias never fails a
 * registration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { freshPostgres } from './support/db.js';
import { type Forge, releaseBody, startForge } from './support/forge.js';

const SHA_A = `a1${'0'.repeat(37)}1`;
const SHA_B = `b2${'0'.repeat(37)}2`;
const SHA_C = `c3${'0'.repeat(37)}3`;
const path = (ref: string, project = 'auth-service') => `/releases/acme/mono/${project}/${encodeURIComponent(ref)}`;

describe('references', () => {
  let forge: Forge;
  let ci: string;
  let url: string;
  let drop: () => Promise<void>;
  before(async () => {
    ({ url, drop } = await freshPostgres());
    forge = await startForge({ databaseUrl: url });
    ci = await forge.token(['service-account'], 'ci@example.com');
    for (const s of [SHA_A, SHA_B, SHA_C]) assert.equal((await forge.api('POST', '/releases', releaseBody({}, s), ci)).status, 201);
  });
  after(async () => {
    await forge.stop();
    await drop();
  });
  const get = (ref: string, project?: string) => forge.api('GET', path(ref, project), undefined, ci);

  test('the repro: a tag equal to another release full sha is refused, and the sha still means its commit', async () => {
    const hijack = await forge.api('POST', '/releases', releaseBody({ tags: [SHA_A], tagging_strategy: 'tag-all' }, SHA_B), ci);
    assert.equal(hijack.status, 400, hijack.text);
    assert.equal(hijack.body.error.code, 'validation_error');
    assert.match(hijack.text, /tags\[0\]/);
    assert.match(hijack.text, /always names a commit/);
    assert.equal((await get(SHA_A)).body.release_number, 1);
    for (const t of [SHA_A.toUpperCase(), 'f'.repeat(64)]) {
      const r = await forge.api('POST', '/releases', releaseBody({ tags: [t], tagging_strategy: 'tag-all' }, SHA_C), ci);
      assert.equal(r.status, 400, t);
    }
  });

  test('upgrade: an alias recorded before the rule that equals another commit sha no longer shadows it', async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(
        `insert into release_aliases (release_id, repository, project, alias, alias_type)
         select id, repository, project, $1, 'tag' from releases where commit_sha = $2`,
        [SHA_A, SHA_C],
      );
    } finally {
      await c.end();
    }
    assert.equal((await get(SHA_A)).body.commit_sha, SHA_A);
    assert.equal((await get(SHA_C)).body.commit_sha, SHA_C);
  });

  test('a tag that reads as another release number or sha prefix is ambiguous, never silently one of them', async () => {
    // Tags "2" and "b200000" on release 1; release 2 exists and its sha starts with b200000.
    const r = await forge.api(
      'POST',
      '/releases',
      releaseBody({ tags: ['2', SHA_B.slice(0, 7), '1'], tagging_strategy: 'tag-all' }, SHA_A),
      ci,
    );
    assert.equal(r.status, 200, r.text);
    for (const ref of ['2', SHA_B.slice(0, 7)]) {
      const a = await get(ref);
      assert.equal(a.status, 409, a.text);
      assert.equal(a.body.error.code, 'ambiguous_reference');
      assert.deepEqual(a.body.error.details.candidates.map((c: { release_number: number }) => c.release_number).sort(), [1, 2]);
      assert.match(a.body.error.message, /release 1 as alias/);
    }
    assert.equal((await get('1')).body.release_number, 1, 'a tag naming the release of that number is no conflict');
    assert.equal((await get(SHA_B)).body.release_number, 2, 'the full sha resolves');
    assert.equal((await get(SHA_B.slice(0, 8))).body.release_number, 2, 'more of the sha resolves');
    assert.equal((await get('3')).body.release_number, 3, 'a number with no tag of that name resolves');
  });

  test('names git refuses are a 400 naming the field (repro: a..b, @{x}, a forged approver line)', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ trigger: { type: 'tag', tag: 'auth-service/va..b' } }, 'trigger.tag'],
      [{ trigger: { type: 'tag', tag: '@{x}' }, tagging_strategy: 'tag-all' }, 'trigger.tag'],
      [{ tags: ['auth-service/v1\nApproved by: ceo@example.com'] }, 'tags[0]'],
      [{ tags: ['v1', 'x y'], tagging_strategy: 'tag-all' }, 'tags[1]'],
      [{ trigger: { type: 'branch_push', branch: 'a..b' } }, 'trigger.branch'],
      [{ trigger: { type: 'branch_push', branch: 'feature/x.lock' } }, 'trigger.branch'],
      [{ trigger: { type: 'branch_push', branch: 'x\u0000y' } }, 'trigger.branch'],
    ];
    for (const [over, field] of cases) {
      const r = await forge.api('POST', '/releases', releaseBody(over, `d4${'0'.repeat(38)}`), ci);
      assert.equal(r.status, 400, `${JSON.stringify(over)}: ${r.text}`);
      assert.ok(JSON.stringify(r.body.error).includes(field), `${field} in ${r.text}`);
    }
    assert.equal((await get(`d4${'0'.repeat(38)}`)).status, 404, 'nothing was registered');
  });

  test('review F3: a tag of the form of a branch alias a later release would derive is refused (repro: tags ["main-4"] on release 3)', async () => {
    const body = (s: string, over: Record<string, unknown>) => releaseBody({ project: 'site', tagging_strategy: 'tag-all', ...over }, s);
    const shaN = (n: number) => `f${n}${'0'.repeat(38)}`;
    assert.equal((await forge.api('POST', '/releases', body(shaN(1), {}), ci)).status, 201);
    assert.equal((await forge.api('POST', '/releases', body(shaN(2), {}), ci)).status, 201);
    // The repro: release 3 with tags ["main-4"] (and the same as a tag trigger, and as a later run for an existing release).
    for (const [over, field] of [
      [{ tags: ['main-4'] }, 'tags[0]'],
      [{ tags: ['v1', 'main-9'] }, 'tags[1]'],
      [{ trigger: { type: 'tag', tag: 'main-5' } }, 'trigger.tag'],
    ] as [Record<string, unknown>, string][]) {
      const r = await forge.api('POST', '/releases', body(shaN(3), over), ci);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error.code, 'validation_error');
      assert.ok(JSON.stringify(r.body.error).includes(field), r.text);
      assert.match(r.body.error.message, /has the form of the branch alias/);
    }
    const later = await forge.api('POST', '/releases', body(shaN(2), { tags: ['main-4'] }), ci);
    assert.equal(later.status, 400, `a later run of release 2: ${later.text}`);
    // Under monorepo only <project>/v* tags are aliases: site/v2-9 gives v2-9, refused from branch v2; a tag of another project is not this release's.
    const mono = await forge.api(
      'POST',
      '/releases',
      body(shaN(3), { tagging_strategy: 'monorepo', tags: ['site/v2-9'], trigger: { type: 'branch_push', branch: 'v2' } }),
      ci,
    );
    assert.equal(mono.status, 400, mono.text);

    // Accepted: a number the project has allocated (release 2 exists: dev-2 can never be derived for another release),
    // the release's own number, a tag with a `/` (a derived alias has none), or no -<number> at the end.
    const third = await forge.api(
      'POST',
      '/releases',
      // …and release candidates or dated tags while no branch of that name releases the project (issue #12 review F5).
      body(shaN(3), { tags: ['dev-2', 'main-3', 'rel/main-9', 'main.4', 'other-site/v1-9', 'v2.0.0-rc-7', 'deploy-2026'] }),
      ci,
    );
    assert.equal(third.status, 201, third.text);
    assert.equal(third.body.release_number, 3);
    // Release 4 from branch main gets main-4, and main-4 resolves to it.
    const fourth = await forge.api('POST', '/releases', body(shaN(4), {}), ci);
    assert.equal(fourth.status, 201, fourth.text);
    assert.ok(
      fourth.body.aliases.some((a: { alias: string }) => a.alias === 'main-4'),
      JSON.stringify(fourth.body.aliases),
    );
    assert.equal((await get('main-4', 'site')).body.release_number, 4);
    // An asserted tag still conflicts with an alias taken.
    const clash = await forge.api('POST', '/releases', body(shaN(5), { tags: ['main-4'] }), ci);
    assert.equal(clash.status, 409, clash.text);
    assert.equal(clash.body.error.code, 'alias_conflict');
  });

  test('issue #12 item 9 (upgrade): a tag equal to a derived branch alias, recorded before such tags were refused, never blocks later releases of the branch', async () => {
    const body = (s: string, over: Record<string, unknown>) => releaseBody({ project: 'web', tagging_strategy: 'tag-all', ...over }, s);
    const shaN = (n: number) => `e${n}${'0'.repeat(38)}`;
    assert.equal((await forge.api('POST', '/releases', body(shaN(1), {}), ci)).status, 201);
    assert.equal((await forge.api('POST', '/releases', body(shaN(2), {}), ci)).status, 201);
    // Release 2 holds a tag main-3 written before the rule (as an older Forge accepted it).
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(
        `insert into release_aliases (release_id, repository, project, alias, alias_type)
         select id, repository, project, 'main-3', 'tag' from releases where commit_sha = $1`,
        [shaN(2)],
      );
    } finally {
      await c.end();
    }
    const third = await forge.api('POST', '/releases', body(shaN(3), {}), ci);
    assert.equal(third.status, 201, third.text);
    assert.equal(third.body.release_number, 3);
    assert.ok(!third.body.aliases.some((a: { alias: string }) => a.alias === 'main-3'), 'the derived alias is left out');
    assert.equal((await get('main-3', 'web')).body.release_number, 2, 'the recorded tag keeps its release');
    // A later run of release 2 re-sending the tag it holds is not refused.
    const again = await forge.api('POST', '/releases', body(shaN(2), { tags: ['main-3'] }), ci);
    assert.equal(again.status, 200, again.text);
  });
});
