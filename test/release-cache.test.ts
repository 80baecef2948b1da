/**
 * The release resolution cache and release ETags (issue #18, "resolution near the framework's
 * limit"; services/release-cache.ts): what a replica answers from memory is never older than
 * the database once the change has been told — an alias added on one replica shows on the
 * other, a new release or alias that makes a reference ambiguous gives 409 on both, and the
 * ETag of a release read changes with any part of its representation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENGINES, freshPostgres } from './support/db.js';
import { eventually } from './support/eventually.js';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';
import { replicaPair } from './support/replicas.js';

/** GET one release with its ETag; `etag` sends If-None-Match. */
async function getRelease(forge: Forge, token: string, project: string, ref: string, etag?: string) {
  const res = await fetch(`${forge.url}/api/v1/releases/acme/mono/${project}/${encodeURIComponent(ref)}`, {
    headers: { authorization: `Bearer ${token}`, ...(etag ? { 'if-none-match': etag } : {}) },
  });
  const text = await res.text();
  return {
    status: res.status,
    etag: res.headers.get('etag'),
    length: res.headers.get('content-length'),
    text,
    body: text ? JSON.parse(text) : undefined,
  };
}

const aliasesOf = (body: { aliases: { alias: string }[] }) => body.aliases.map((a) => a.alias);

for (const engine of ENGINES) {
  describe(`release reads from the resolution cache (${engine}, one server)`, () => {
    let forge: Forge;
    let ci: string;
    let dev: string;
    let drop = async () => {};
    before(async () => {
      let databaseUrl: string | undefined;
      if (engine === 'postgres') ({ url: databaseUrl, drop } = await freshPostgres());
      forge = await startForge({ databaseUrl });
      ci = await forge.token(['service-account'], 'ci@example.com');
      dev = await forge.token(['developer'], 'dev@example.com');
    });
    after(async () => {
      await forge.stop();
      await drop();
    });

    test('an alias added to a cached release shows at once; a new alias and a new release make references ambiguous', async () => {
      const project = 'cache-svc';
      const [S1, S2, S3] = [`abc1234${'0'.repeat(33)}`, `abc1234${'f'.repeat(33)}`, `def${'0'.repeat(37)}`];
      const r1 = await forge.api('POST', '/releases', releaseBody({ project }, S1), ci);
      assert.equal(r1.status, 201, r1.text);
      // read by number, tag-less: now cached
      const first = await getRelease(forge, dev, project, '1');
      assert.equal(first.status, 200, first.text);
      assert.ok(!aliasesOf(first.body).includes('v2'));
      assert.equal((await getRelease(forge, dev, project, '1')).text, first.text);

      // a tag added to release 1 by registering its commit again: the next read shows it
      const tagged = await forge.api(
        'POST',
        '/releases',
        releaseBody({ project, trigger: { type: 'tag', tag: 'v2' }, tags: ['v2'], tagging_strategy: 'tag-all' }, S1),
        ci,
      );
      assert.equal(tagged.status, 200, tagged.text);
      assert.ok(aliasesOf(tagged.body).includes('v2'), tagged.text);
      const after = await getRelease(forge, dev, project, '1');
      assert.deepEqual(aliasesOf(after.body), [...aliasesOf(first.body), 'v2']);
      assert.deepEqual(
        after.body.triggers.map((t: { type: string }) => t.type),
        ['branch_push', 'tag'],
      );
      assert.equal((await getRelease(forge, dev, project, 'v2')).body.id, r1.body.id);

      // "2" names nothing yet (404, answered from the cached project), then release 2 by number
      // while the tag "v2" stays release 1's
      assert.equal((await getRelease(forge, dev, project, '2')).status, 404);
      const r2 = await forge.api('POST', '/releases', releaseBody({ project }, S2), ci);
      assert.equal(r2.status, 201, r2.text);
      assert.equal((await getRelease(forge, dev, project, '2')).body.id, r2.body.id);

      // a sha prefix both commits share: 409 from the cache
      const prefix = 'abc1234';
      const amb = await getRelease(forge, dev, project, prefix);
      assert.equal(amb.status, 409, amb.text);
      assert.equal(amb.body.error.code, 'ambiguous_reference');
      assert.deepEqual(
        amb.body.error.details.candidates.map((c: { release_number: number }) => c.release_number),
        [2, 1],
      );

      // a reference unique and cached, then made ambiguous by a new release's alias: 409
      const unique = 'abc1234fff';
      assert.equal((await getRelease(forge, dev, project, unique)).body.id, r2.body.id);
      const r3 = await forge.api(
        'POST',
        '/releases',
        releaseBody({ project, trigger: { type: 'tag', tag: unique }, tags: [unique], tagging_strategy: 'tag-all' }, S3),
        ci,
      );
      assert.equal(r3.status, 201, r3.text);
      const now = await getRelease(forge, dev, project, unique);
      assert.equal(now.status, 409, now.text);
      assert.deepEqual(
        now.body.error.details.candidates.map((c: { release_number: number; as: string[] }) => [c.release_number, c.as]),
        [
          [3, ['alias']],
          [2, ['sha prefix']],
        ],
      );
      // a full sha always means its commit
      assert.equal((await getRelease(forge, dev, project, S2)).body.id, r2.body.id);
      // an unknown project is a 404 naming the project
      const none = await getRelease(forge, dev, 'no-such-svc', '1');
      assert.equal(none.status, 404);
      assert.match(none.body.error.message, /no project acme\/mono\/no-such-svc/);
    });

    test('ETag: a match answers 304 with no body; the ETag changes when an alias is added', async () => {
      const project = 'etag-svc';
      const r1 = await forge.api('POST', '/releases', releaseBody({ project }, sha(0xe7a6001)), ci);
      assert.equal(r1.status, 201, r1.text);
      const first = await getRelease(forge, dev, project, '1');
      assert.equal(first.status, 200);
      assert.match(first.etag ?? '', /^"[A-Za-z0-9_-]{22}"$/);
      assert.equal(
        (await getRelease(forge, dev, project, sha(0xe7a6001))).etag,
        first.etag,
        'one release, one ETag, whatever the reference',
      );

      const same = await getRelease(forge, dev, project, '1', first.etag!);
      assert.equal(same.status, 304);
      assert.equal(same.text, '');
      assert.ok(same.length === null || same.length === '0', `a 304 announces no body (content-length ${same.length})`);
      assert.equal(same.etag, first.etag);
      assert.equal((await getRelease(forge, dev, project, '1', `"other", W/${first.etag}`)).status, 304);
      assert.equal((await getRelease(forge, dev, project, '1', '"other"')).status, 200);

      const tagged = await forge.api(
        'POST',
        '/releases',
        releaseBody({ project, trigger: { type: 'tag', tag: 'v1' }, tags: ['v1'], tagging_strategy: 'tag-all' }, sha(0xe7a6001)),
        ci,
      );
      assert.equal(tagged.status, 200, tagged.text);
      const changed = await getRelease(forge, dev, project, '1', first.etag!);
      assert.equal(changed.status, 200, 'the old ETag no longer matches');
      assert.notEqual(changed.etag, first.etag);
      assert.deepEqual(aliasesOf(changed.body), [...aliasesOf(first.body), 'v1']);
      // the manifests: immutable, one ETag per format, 304 without reading the image again
      const url = `${forge.url}/api/v1/releases/acme/mono/${project}/1/resources`;
      const yaml = await fetch(url, { headers: { authorization: `Bearer ${dev}` } });
      assert.equal(yaml.status, 200);
      assert.match(await yaml.text(), /kind: Deployment/);
      const yamlTag = yaml.headers.get('etag');
      assert.match(yamlTag ?? '', /^"[A-Za-z0-9_-]{22}"$/);
      const json = await fetch(url, { headers: { authorization: `Bearer ${dev}`, accept: 'application/json' } });
      assert.equal(json.status, 200);
      assert.equal((await json.json()).length, 2);
      assert.notEqual(json.headers.get('etag'), yamlTag);
      assert.match(json.headers.get('vary') ?? '', /accept/i, 'a shared cache must key the answer by Accept');
      // q-values count: JSON refused (q=0) means YAML
      const refused = await fetch(url, { headers: { authorization: `Bearer ${dev}`, accept: 'application/json;q=0, application/yaml' } });
      assert.equal(refused.headers.get('etag'), yamlTag);
      assert.match(await refused.text(), /^---\n/);
      const preferred = await fetch(url, {
        headers: { authorization: `Bearer ${dev}`, accept: 'application/yaml;q=0.5, application/json' },
      });
      assert.equal(preferred.headers.get('etag'), json.headers.get('etag'));
      const unchanged = await fetch(url, { headers: { authorization: `Bearer ${dev}`, 'if-none-match': yamlTag! } });
      assert.equal(unchanged.status, 304);
      assert.equal(await unchanged.text(), '');
      // a 404 or 409 carries no ETag
      assert.equal((await getRelease(forge, dev, project, '9')).etag, null);
    });
  });
}

describe('the resolution cache across two replicas on one PostgreSQL', () => {
  test('an alias added on replica A shows on replica B; a reference made ambiguous on A is 409 on B', async (t) => {
    const { a, b } = await replicaPair(t);
    const ci = await a.token(['service-account'], 'ci@example.com');
    const dev = await b.token(['developer'], 'dev@example.com');
    const project = 'replica-svc';
    const r1 = await a.api('POST', '/releases', releaseBody({ project }, sha(0x5eed001)), ci);
    assert.equal(r1.status, 201, r1.text);
    // B caches the project (after its LISTEN connection is up: until then it reads the database)
    const seen = await getRelease(b, dev, project, '1');
    assert.ok(!aliasesOf(seen.body).includes('v7'));
    const unique = sha(0x5eed001).slice(0, 12);
    assert.equal((await getRelease(b, dev, project, unique)).body.id, r1.body.id);

    const tagged = await a.api(
      'POST',
      '/releases',
      releaseBody({ project, trigger: { type: 'tag', tag: 'v7' }, tags: ['v7'], tagging_strategy: 'tag-all' }, sha(0x5eed001)),
      ci,
    );
    assert.equal(tagged.status, 200, tagged.text);
    // told by NOTIFY on commit: bounded by the notification's delivery (milliseconds; 2 s allowed)
    const shown = await eventually(
      'the alias on replica B',
      async () => {
        const r = await getRelease(b, dev, project, '1');
        return aliasesOf(r.body).includes('v7') ? r : undefined;
      },
      { withinMs: 2000, everyMs: 10 },
    );
    assert.deepEqual(aliasesOf(shown.body), [...aliasesOf(seen.body), 'v7']);
    assert.equal((await getRelease(b, dev, project, 'v7')).body.id, r1.body.id);

    // release 2 on A whose tag is the prefix B resolved to release 1: ambiguous on B
    const r2 = await a.api(
      'POST',
      '/releases',
      releaseBody({ project, trigger: { type: 'tag', tag: unique }, tags: [unique], tagging_strategy: 'tag-all' }, sha(0x5eed002)),
      ci,
    );
    assert.equal(r2.status, 201, r2.text);
    const amb = await eventually(
      'the ambiguity on replica B',
      async () => {
        const r = await getRelease(b, dev, project, unique);
        return r.status === 409 ? r : undefined;
      },
      { withinMs: 2000, everyMs: 10 },
    );
    assert.equal(amb.body.error.code, 'ambiguous_reference');
    assert.deepEqual(
      amb.body.error.details.candidates.map((c: { release_number: number }) => c.release_number),
      [2, 1],
    );
  });
});
