/** Release registry over HTTP (issue 2: acceptance 1, 3, 4, 7, 8, 10), on PGlite and on PostgreSQL. */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadOrCreateTokenKey, signToken } from '../src/server/tokens.js';
import { ENGINES, freshPostgres } from './support/db.js';
import { type Forge, releaseBody, sha, startForge, tempDir } from './support/forge.js';

for (const engine of ENGINES) {
  describe(`release registry API (${engine})`, () => {
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

    test('identity: bad fields give 400 naming the field; sha is lower-cased; OCI reference', async () => {
      for (const [over, field] of [
        [{ repository: 'acme' }, 'repository'],
        [{ repository: 'acme/mono/extra' }, 'repository'],
        [{ project: 'Auth_Service' }, 'project'],
        [{ commit: { sha: 'abc123' } }, 'commit.sha'],
      ] as const) {
        const res = await forge.api('POST', '/releases', releaseBody(over as Record<string, unknown>), ci);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'validation_error');
        assert.ok(
          res.body.error.details.fields.some((f: { path: string }) => f.path === field),
          JSON.stringify(res.body),
        );
      }
      const upper = 'ABCDEF'.padEnd(40, 'A');
      const res = await forge.api('POST', '/releases', releaseBody({ repository: 'Acme/Mono' }, upper), ci);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.commit_sha, upper.toLowerCase());
      assert.equal(res.body.repository, 'acme/mono');
      assert.match(res.body.oci_uri, new RegExp(`/acme/mono/auth-service:${upper.toLowerCase()}$`));
      assert.equal(res.body.canonical_id, `acme/mono/auth-service/${upper.toLowerCase()}`);
      assert.match(res.body.oci_digest, /^sha256:[0-9a-f]{64}$/);
    });

    test('aliases: numeric, tag (monorepo and tag-all), branch; conflicts; tag added to an existing release', async () => {
      const project = 'alias-svc';
      const r1 = await forge.api(
        'POST',
        '/releases',
        releaseBody({ project, trigger: { type: 'branch_push', branch: 'release/1.2' } }, sha(1)),
        ci,
      );
      assert.equal(r1.status, 201, r1.text);
      assert.deepEqual(r1.body.aliases, [
        { alias: '1', alias_type: 'numeric' },
        { alias: 'release-1.2-1', alias_type: 'branch' },
      ]);

      const r2 = await forge.api(
        'POST',
        '/releases',
        releaseBody(
          {
            project,
            trigger: { type: 'tag', tag: `${project}/v1.2.3` },
            tags: [`${project}/v1.2.3`, 'other/v9.9.9', 'v0.0.1'],
          },
          sha(2),
        ),
        ci,
      );
      assert.equal(r2.status, 201, r2.text);
      assert.deepEqual(
        r2.body.aliases.map((a: { alias: string }) => a.alias),
        ['2', 'v1.2.3'],
      );

      const r3 = await forge.api(
        'POST',
        '/releases',
        releaseBody(
          {
            project,
            trigger: { type: 'tag', tag: 'build.77' },
            tags: ['build.77', 'latest-ok'],
            tagging_strategy: 'tag-all',
          },
          sha(3),
        ),
        ci,
      );
      assert.equal(r3.status, 201, r3.text);
      assert.deepEqual(r3.body.aliases.map((a: { alias: string }) => a.alias).sort(), ['3', 'build.77', 'latest-ok']);

      const clash = await forge.api('POST', '/releases', releaseBody({ project, tags: [`${project}/v1.2.3`] }, sha(4)), ci);
      assert.equal(clash.status, 409);
      assert.equal(clash.body.error.code, 'alias_conflict');
      assert.match(clash.body.error.message, /v1\.2\.3.*release 2/);

      const again = await forge.api(
        'POST',
        '/releases',
        releaseBody(
          {
            project,
            trigger: { type: 'tag', tag: `${project}/v1.3.0` },
            tags: [`${project}/v1.3.0`],
          },
          sha(1),
        ),
        ci,
      );
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.id, r1.body.id);
      assert.equal(again.body.release_number, 1);
      assert.ok(again.body.aliases.some((a: { alias: string; alias_type: string }) => a.alias === 'v1.3.0' && a.alias_type === 'tag'));
      assert.deepEqual(
        again.body.triggers.map((t: { type: string }) => t.type),
        ['branch_push', 'tag'],
      );
      assert.equal(again.body.oci_digest, r1.body.oci_digest);
      assert.equal(again.body.content_matches, true);

      const changed = await forge.api(
        'POST',
        '/releases',
        releaseBody({ project, resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }] }, sha(1)),
        ci,
      );
      assert.equal(changed.status, 200);
      assert.equal(changed.body.content_matches, false);
    });

    test('resolution: alias, number, sha prefix, ambiguity, 404; a numeric-looking tag of another release is ambiguous', async () => {
      const project = 'resolve-svc';
      const a = 'abcdef1' + '0'.repeat(33);
      const b = 'abcdef1' + '1'.repeat(33);
      const r1 = await forge.api('POST', '/releases', releaseBody({ project }, a), ci);
      const r2 = await forge.api(
        'POST',
        '/releases',
        releaseBody({ project, tags: ['1'], tagging_strategy: 'tag-all', trigger: { type: 'manual' } }, b),
        ci,
      );
      assert.equal(r2.status, 201, r2.text);
      const get = (ref: string) => forge.api('GET', `/releases/acme/mono/${project}/${ref}`, undefined, dev);
      assert.equal((await get('2')).body.id, r2.body.id);
      // An alias never shadows a reference of another kind (issue #13 item 3): tag "1" of release 2
      // and release number 1 are both readings of "1".
      const one = await get('1');
      assert.equal(one.status, 409, one.text);
      assert.equal(one.body.error.code, 'ambiguous_reference');
      assert.equal((await get(a)).body.id, r1.body.id);
      assert.equal((await get(a.slice(0, 9))).body.id, r1.body.id);
      const amb = await get('abcdef1');
      assert.equal(amb.status, 409);
      assert.equal(amb.body.error.code, 'ambiguous_reference');
      assert.equal(amb.body.error.details.candidates.length, 2);
      assert.equal((await get('abcdef')).status, 404, 'a prefix shorter than 7 is not a reference');
      const missing = await get('v9.9.9');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'not_found');
      assert.equal(
        (await forge.api('GET', `/v1/releases/acme/mono/${project}/2`, undefined, dev)).body.id,
        r2.body.id,
        'also served at /v1',
      );
    });

    test('list with pagination, newest first; projects; resources and diff', async () => {
      const project = 'list-svc';
      for (let i = 1; i <= 3; i++) {
        const res = await forge.api(
          'POST',
          '/releases',
          releaseBody(
            {
              project,
              resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { n: String(i) } }],
            },
            sha(100 + i),
          ),
          ci,
        );
        assert.equal(res.status, 201, res.text);
      }
      const page = await forge.api('GET', `/releases/acme/mono/${project}?limit=2&offset=0`, undefined, dev);
      assert.deepEqual(
        page.body.items.map((r: { release_number: number }) => r.release_number),
        [3, 2],
      );
      assert.equal(page.body.total, 3);
      assert.equal(page.body.limit, 2);
      const bad = await forge.api('GET', `/releases/acme/mono/${project}?limit=500`, undefined, dev);
      assert.equal(bad.status, 400);
      const projects = await forge.api('GET', '/projects?limit=200', undefined, dev);
      assert.ok(
        projects.body.items.some(
          (p: { project: string; latest_release: { release_number: number } }) =>
            p.project === project && p.latest_release.release_number === 3,
        ),
      );

      const yaml = await forge.api('GET', `/releases/acme/mono/${project}/2/resources`, undefined, dev);
      assert.equal(yaml.status, 200);
      assert.match(yaml.text, /^---\n/);
      assert.match(yaml.text, /kind: ConfigMap/);
      assert.match(yaml.text, /"n": "2"/); // the key n is quoted: a YAML 1.1 boolean
      const json = await forge.api('GET', `/releases/acme/mono/${project}/2/resources`, undefined, dev, { accept: 'application/json' });
      assert.deepEqual(json.body, [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { n: '2' } }]);
      const diff = await forge.api('GET', `/releases/acme/mono/${project}/1/diff/3`, undefined, dev);
      assert.equal(diff.status, 200);
      assert.match(diff.text, /^-\s+"?n"?: "1"$/m);
      assert.match(diff.text, /^\+\s+"?n"?: "3"$/m);
    });

    test('resources are validated before anything is written; limits give 413', async () => {
      const project = 'valid-svc';
      const res = await forge.api(
        'POST',
        '/releases',
        releaseBody(
          {
            project,
            resources: [
              { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok' } },
              { kind: 'ConfigMap', metadata: { name: 'no-version' } },
              { apiVersion: 'v1', kind: 'Secret', metadata: {} },
            ],
          },
          sha(200),
        ),
        ci,
      );
      assert.equal(res.status, 400);
      const paths = res.body.error.details.fields.map((f: { path: string }) => f.path);
      assert.ok(paths.includes('resources[1].apiVersion'), paths.join());
      assert.ok(paths.includes('resources[2].metadata.name'), paths.join());
      const many = Array.from({ length: 5001 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } }));
      const big = await forge.api('POST', '/releases', releaseBody({ project, resources: many }, sha(201)), ci);
      assert.equal(big.status, 413);
      assert.equal(big.body.error.code, 'payload_too_large');
      const huge = await forge.api(
        'POST',
        '/releases',
        releaseBody(
          {
            project,
            resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { x: 'x'.repeat(17 * 1024 * 1024) } }],
          },
          sha(202),
        ),
        ci,
      );
      assert.equal(huge.status, 413);
      assert.equal(huge.body.error.code, 'payload_too_large');
      const list = await forge.api('GET', `/releases/acme/mono/${project}`, undefined, dev);
      assert.equal(list.body.total, 0, 'nothing was written');
      const next = await forge.api('POST', '/releases', releaseBody({ project }, sha(203)), ci);
      assert.equal(next.body.release_number, 1, 'no number was consumed');
    });

    test('auth: 401 without or with a foreign or expired token, 403 for a developer creating', async () => {
      const none = await forge.api('POST', '/releases', releaseBody({ project: 'auth-svc' }, sha(300)));
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, 'authentication_required');
      assert.equal((await forge.api('GET', '/releases/acme/mono/auth-svc', undefined)).status, 401);
      const denied = await forge.api('POST', '/releases', releaseBody({ project: 'auth-svc' }, sha(300)), dev);
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'permission_denied');
      const foreignKey = loadOrCreateTokenKey(`${tempDir()}/token-key`);
      const foreign = (await signToken(foreignKey, 'mallory', ['service-account'], 3600)).token;
      assert.equal((await forge.api('GET', '/projects', undefined, foreign)).status, 401);
      const expired = await forge.token(['developer'], 'late@example.com', -10);
      const res = await forge.api('GET', '/projects', undefined, expired);
      assert.equal(res.status, 401);
      assert.match(res.body.error.message, /expired/);
      assert.equal((await forge.api('GET', '/projects', undefined, dev)).status, 200);
    });

    test('openapi describes every route with schemas; health and readiness; envelope on unknown routes and bad JSON', async () => {
      const doc = (await forge.api('GET', '/api/v1/openapi.json')).body;
      assert.equal(doc.openapi, '3.0.3');
      const post = doc.paths['/api/v1/releases'].post;
      assert.ok(post.requestBody.content['application/json'].schema.properties.resources);
      assert.ok(post.responses['201'] && post.responses['409']);
      for (const [path, methods] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(doc.paths)) {
        for (const [m, op] of Object.entries(methods))
          assert.ok(op.responses['200'] || op.responses['201'], `${m} ${path} has a success schema`);
      }
      assert.equal((await forge.api('GET', '/healthz')).status, 200);
      assert.equal((await forge.api('GET', '/readyz')).status, 200);
      const unknown = await forge.api('GET', '/api/v1/nothing-here', undefined, dev);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.code, 'not_found');
      const badJson = await forge.api('POST', '/releases', '{"repository":', ci);
      assert.equal(badJson.status, 400);
      assert.equal(badJson.body.error.code, 'validation_error');
      const extra = await forge.api('POST', '/releases', { ...releaseBody({ project: 'x-svc' }, sha(400)), surprise: 1 }, ci);
      assert.equal(extra.status, 400);
      assert.ok(extra.body.error.details.fields.some((f: { path: string }) => f.path === 'surprise'));
    });
  });
}
