/**
 * `forge cmp generate` end to end, run as Argo CD runs it (a separate process in the pointer
 * folder with Argo CD's environment), against releases registered by a real Forge server in a
 * real docker-registry and in the embedded OCI layout.
 */

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { toYaml } from '../src/core/yaml-out.js';
import { argoEnv, pointerFor, runPlugin, writePointer } from './support/cmp.js';
import { type Forge, releaseBody, startForge, tempDir } from './support/forge.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const REPO_PATH = 'forge/acme/mono/auth-service';

/** What Argo CD must receive: the objects sorted by (kind, name, apiVersion, namespace), each after `---`. */
function expectedStream(resources: Record<string, any>[]): string {
  const key = (o: Record<string, any>) => [o.kind, o.metadata?.name ?? '', o.apiVersion, o.metadata?.namespace ?? ''];
  return [...resources]
    .sort((a, b) => {
      const [ka, kb] = [key(a), key(b)];
      for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
      return 0;
    })
    .map((o) => `---\n${toYaml(o, { sortKeys: true })}`)
    .join('');
}

function resourcesFor(n: number): Record<string, any>[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'auth', namespace: 'auth' }, spec: { ports: [{ port: 80 }] } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'auth', namespace: 'auth' }, spec: { replicas: n } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b-config', namespace: 'auth' }, data: { release: String(n) } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a-config', namespace: 'auth' }, data: { z: 'last', a: 'first' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'auth' } },
  ];
}

interface Release {
  sha: string;
  digest: string;
  resourcesDigest: string;
  resources: Record<string, any>[];
  number: number;
}

let reg: TestRegistry;
let forge: Forge;
let token: string;
let work: string;
const releases: Release[] = [];

async function createRelease(f: Forge, n: number): Promise<Release> {
  const sha = n.toString(16).padStart(40, 'c');
  const resources = resourcesFor(n);
  const res = await f.api('POST', '/releases', releaseBody({ resources }, sha), await f.token(['service-account']));
  assert.equal(res.status, 201, res.text);
  return { sha, digest: res.body.oci_digest, resourcesDigest: res.body.resources_digest, resources, number: res.body.release_number };
}

before(async () => {
  reg = await startRegistry();
  work = tempDir('forge-cmp-');
  forge = await startForge({ registry: `${reg.host}/forge` });
  token = await forge.token(['service-account']);
  for (let n = 1; n <= 3; n++) releases.push(await createRelease(forge, n));
});

after(async () => {
  await forge?.stop();
  await reg?.destroy();
  await rm(work, { recursive: true, force: true });
});

function setup(name: string, release: Release, extraEnv: Record<string, string> = {}) {
  const root = join(work, name);
  const { dir, sourcePath } = writePointer(
    root,
    pointerFor({ release: release.sha, digest: release.digest, releaseNumber: release.number }),
  );
  const cacheDir = join(root, 'cache');
  const env = argoEnv(sourcePath, { FORGE_REGISTRY: `${reg.host}/forge`, FORGE_CMP_CACHE_DIR: cacheDir, ...extraEnv });
  return { dir, sourcePath, cacheDir, env };
}

test('generate follows the CMP contract: in the pointer folder with Argo CD env, only the sorted YAML stream on stdout, logs on stderr', async () => {
  assert.ok(token);
  const r = releases[0]!;
  // ARGOCD_ENV_* come from whoever writes the Application: they must not redirect the plugin.
  const { dir, env } = setup('contract', r, {
    ARGOCD_ENV_FORGE_REGISTRY: 'oci-layout:/nonexistent',
    ARGOCD_ENV_FORGE_CMP_CACHE_DIR: '/nonexistent',
  });
  const out = await runPlugin(['generate'], dir, env);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, expectedStream(r.resources));
  assert.match(out.stdout, /^---\napiVersion: v1\ndata:\n  a: first\n  z: last\nkind: ConfigMap\nmetadata:\n  name: a-config\n/);
  assert.match(out.stderr, new RegExp(`argocd/production-acme-mono-auth-service: acme/mono/auth-service release 1 .*${r.digest}`));
  assert.doesNotMatch(out.stdout, /forge-cmp/);

  const viaForge = await runPlugin(['generate'], dir, { ...env, FORGE_CMP_CACHE_DIR: join(work, 'contract', 'cache-forge') }, 'forge');
  assert.equal(viaForge.code, 0, viaForge.stderr);
  assert.equal(viaForge.stdout, out.stdout, '`forge cmp generate` and `forge-cmp generate` print the same stream');
});

test('a release in the embedded OCI layout is read with FORGE_REGISTRY=oci-layout:PATH', async (t) => {
  const embedded = await startForge();
  t.after(() => embedded.stop());
  const r = await createRelease(embedded, 7);
  const { dir, env } = setup('layout', r, { FORGE_REGISTRY: `oci-layout:${join(embedded.dataDir, 'registry')}` });
  const out = await runPlugin(['generate'], dir, env);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, expectedStream(r.resources));
});

test('a tag re-pointed in the registry does not change the output: the plugin pulls by spec.digest', async () => {
  const [first, second] = [releases[0]!, releases[1]!];
  const manifest2 = await fetch(`http://${reg.host}/v2/${REPO_PATH}/manifests/${second.digest}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  }).then((r) => r.arrayBuffer());
  const put = await fetch(`http://${reg.host}/v2/${REPO_PATH}/manifests/${first.sha}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: new Uint8Array(manifest2),
  });
  assert.equal(put.status, 201);
  const head = await fetch(`http://${reg.host}/v2/${REPO_PATH}/manifests/${first.sha}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  assert.equal(head.headers.get('docker-content-digest'), second.digest, 'the tag of release 1 now names release 2');

  const { dir, env } = setup('retag', first);
  const out = await runPlugin(['generate'], dir, env);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, expectedStream(first.resources));
  assert.notEqual(out.stdout, expectedStream(second.resources));
});

test('a blob corrupted in the registry storage fails with the digest named, nothing on stdout', async () => {
  const r = releases[2]!;
  const hex = r.resourcesDigest.slice('sha256:'.length);
  const file = join(reg.storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  const bytes = readFileSync(file);
  bytes[100] = bytes[100]! ^ 0xff;
  writeFileSync(file, bytes);
  const { dir, env } = setup('corrupt', r);
  const out = await runPlugin(['generate'], dir, env);
  assert.equal(out.code, 1);
  assert.equal(out.stdout, '');
  assert.match(out.stderr, new RegExp(`generate failed: .*does not match digest ${r.resourcesDigest}`));
});

test('env.yaml beside the pointer is validated and emitted after the resources', async () => {
  const r = releases[0]!;
  const { dir, sourcePath, env } = setup('envyaml', r);
  const envConfig = {
    apiVersion: 'apiextensions.crossplane.io/v1beta1',
    kind: 'EnvironmentConfig',
    metadata: { name: 'auth-service-production' },
    data: { replicas: 3, region: 'eu-west-1' },
  };
  writeFileSync(join(dir, 'env.yaml'), `# operator-owned\n${stringify(envConfig)}`);
  const ok = await runPlugin(['generate'], dir, env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, `${expectedStream(r.resources)}---\n${toYaml(envConfig)}`);

  writeFileSync(join(dir, 'env.yaml'), stringify({ ...envConfig, apiVersion: 'apiextensions.crossplane.io/v1alpha1' }));
  const badVersion = await runPlugin(['generate'], dir, env);
  assert.equal(badVersion.code, 1);
  assert.equal(badVersion.stdout, '');
  assert.match(
    badVersion.stderr,
    new RegExp(
      `${sourcePath}/env.yaml: apiVersion is "apiextensions.crossplane.io/v1alpha1"; expected "apiextensions.crossplane.io/v1beta1"`,
    ),
  );

  writeFileSync(join(dir, 'env.yaml'), stringify({ ...envConfig, data: undefined, spec: { data: { a: 1 } } }));
  const noData = await runPlugin(['generate'], dir, env);
  assert.equal(noData.code, 1);
  assert.match(noData.stderr, new RegExp(`${sourcePath}/env.yaml: data is missing; expected a mapping at the top level`));
});

test('concurrent runs sharing one cache all print the stream and leave each registry blob once, whole', async () => {
  const r = releases[1]!;
  const { dir, env, cacheDir } = setup('concurrent', r);
  const runs = await Promise.all(Array.from({ length: 8 }, () => runPlugin(['generate'], dir, env)));
  for (const out of runs) {
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, expectedStream(r.resources));
  }
  // The manifest, the metadata layer and the resources layer, each under its digest; no temporary files left.
  const names = readdirSync(cacheDir).sort();
  assert.equal(names.length, 3, names.join(', '));
  assert.ok(names.includes(r.digest.replace(':', '-')), 'the manifest, under the pointer digest');
  for (const name of names) {
    assert.match(name, /^sha256-[0-9a-f]{64}$/);
    assert.equal(
      `sha256:${createHash('sha256')
        .update(readFileSync(join(cacheDir, name)))
        .digest('hex')}`,
      name.replace('-', ':'),
      'whole',
    );
  }
});

test('with FORGE_CMP_DESTINATION_NAMESPACE_ONLY an object naming another namespace than the destination is refused (issue 13 review F1)', async () => {
  const r = releases[0]!; // its objects are in namespace auth, or (the Namespace) in none
  const own = setup('isolated-own', r, { FORGE_CMP_DESTINATION_NAMESPACE_ONLY: 'true', ARGOCD_APP_NAMESPACE: 'auth' });
  const ok = await runPlugin(['generate'], own.dir, own.env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, expectedStream(r.resources));

  // Another repository's Application (its own destination) pointed at this release: refused, nothing rendered.
  const other = setup('isolated-other', r, { FORGE_CMP_DESTINATION_NAMESPACE_ONLY: 'true', ARGOCD_APP_NAMESPACE: 'dev-web-0123456789' });
  const refused = await runPlugin(['generate'], other.dir, other.env);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, /names namespace "auth"; this Application deploys to namespace "dev-web-0123456789" only/);

  const unset = setup('isolated-unset', r, { FORGE_CMP_DESTINATION_NAMESPACE_ONLY: 'true', ARGOCD_APP_NAMESPACE: '' });
  const noDestination = await runPlugin(['generate'], unset.dir, unset.env);
  assert.equal(noDestination.code, 1);
  assert.equal(noDestination.stdout, '');
  assert.match(noDestination.stderr, /ARGOCD_APP_NAMESPACE/);

  // Off (the plugin's default outside deploy/argocd): rendered as before.
  const off = setup('isolated-off', r, { ARGOCD_APP_NAMESPACE: 'dev-web-0123456789' });
  assert.equal((await runPlugin(['generate'], off.dir, off.env)).code, 0);
});

// Stops the registry: keep it last in this file.
test('a warm run does no network I/O: it works with the registry stopped, a cold one does not', async () => {
  const r = releases[0]!;
  const { dir, env } = setup('warm', r);
  const cold = await runPlugin(['generate'], dir, env);
  assert.equal(cold.code, 0, cold.stderr);
  assert.match(cold.stderr, new RegExp(`from ${reg.host}/forge`));
  await reg.stop();
  const warm = await runPlugin(['generate'], dir, env);
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal(warm.stdout, cold.stdout);
  assert.match(warm.stderr, /from cache/);
  const uncached = await runPlugin(['generate'], dir, { ...env, FORGE_CMP_CACHE_DIR: join(work, 'warm', 'empty-cache') });
  assert.equal(uncached.code, 1);
  assert.equal(uncached.stdout, '');
  assert.match(uncached.stderr, new RegExp(`registry ${reg.host}.*(ECONNREFUSED|connect)`));
});
