/**
 * The published `forge-cmp` bin: the bundle `npm run build` makes with scripts/bundle-cmp.mjs
 * (issue 18, plugin cold start), built here the same way into a folder of its own and run as
 * Argo CD runs it. It prints what the sources print, verifies signatures (the verifier is a
 * chunk loaded on demand), and serves a warm render from a sealed entry of its cache only when
 * the entry verifies under the cache's private key and was made under the same rules
 * (src/cmp/cache.ts RenderMemo).
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { renderPointer } from '../src/core/pointer.js';
import { buildReleaseImage } from '../src/core/release-image.js';
import { openReleaseStore } from '../src/registry/index.js';
import { loadOrCreateSigningKey, signAndPushRelease } from '../src/signing/index.js';
import { argoEnv, pointerFor, runNode, runPlugin, writePointer } from './support/cmp.js';
import { REPO_ROOT, tempDir } from './support/forge.js';

const work = tempDir('forge-cmp-bundle-');
const bin = join(work, 'bin');
const layout = join(work, 'layout');
const store = openReleaseStore({ registry: `oci-layout:${layout}`, dataDir: work });
const REPO = 'acme/mono/auth-service';
const signingKey = loadOrCreateSigningKey(join(work, 'a', 'signing-key.pem'));
loadOrCreateSigningKey(join(work, 'b', 'signing-key.pem'));
const pubA = join(work, 'a', 'signing-key.pem.pub');
const pubB = join(work, 'b', 'signing-key.pem.pub');

before(async () => {
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [join(REPO_ROOT, 'scripts/bundle-cmp.mjs'), bin], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`bundle-cmp exited ${code}`))));
  });
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs the bundle's `main.js` as Argo CD does: a new process in `cwd` with exactly `env` (plus PATH and HOME). */
const runBundle = (args: string[], cwd: string, env: Record<string, string>) => runNode([join(bin, 'main.js'), ...args], cwd, env);

async function release(c: string, signed: boolean, extra: Record<string, unknown>[] = []) {
  const sha = c.repeat(40);
  const image = buildReleaseImage({
    repository: 'acme/mono',
    project: 'auth-service',
    sha,
    releaseNumber: 1,
    aliases: [],
    triggers: [{ type: 'manual' }],
    source: {},
    artifacts: [],
    resources: [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${c}`, namespace: 'auth' }, data: { on: 'yes', n: '1_000' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'auth', namespace: 'auth' }, spec: { replicas: 2 } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'auth' }, spec: { ports: [{ port: 80 }] } },
      ...extra,
    ],
  });
  await store.push(REPO, sha, [image.config, image.metadata, image.resources], image.manifest);
  if (signed)
    await signAndPushRelease(store, signingKey, REPO, `acme/mono/auth-service/${sha}`, {
      digest: image.manifest.digest,
      size: image.manifest.size,
    });
  return { ...writePointer(join(work, `gitops-${c}`), pointerFor({ release: sha, digest: image.manifest.digest })), sha, image };
}

const env = (sourcePath: string, cache: string, extra: Record<string, string> = {}) =>
  argoEnv(sourcePath, { FORGE_REGISTRY: `oci-layout:${layout}`, FORGE_CMP_CACHE_DIR: join(work, cache), ...extra });

const sealedEntries = (cache: string) => readdirSync(join(work, cache)).filter((n) => /^render-[0-9a-f]{64}$/.test(n));

test('the published bin discovers and generates end to end, printing what the sources print; a warm run serves the sealed render without the registry', async () => {
  const { dir, sourcePath } = await release('a', false);
  const discovered = await runBundle(['discover'], dir, env(sourcePath, 'c1'));
  assert.equal(discovered.code, 0, discovered.stderr);
  assert.equal(discovered.stdout, 'release.yaml\n');

  const fromSources = await runPlugin(['generate'], dir, env(sourcePath, 'c1-sources'));
  assert.equal(fromSources.code, 0, fromSources.stderr);
  const cold = await runBundle(['generate'], dir, env(sourcePath, 'c1'));
  assert.equal(cold.code, 0, cold.stderr);
  assert.equal(cold.stdout, fromSources.stdout);
  assert.match(cold.stdout, /^---\napiVersion: v1\ndata:\n {2}"n": "1_000"\n {2}"on": "yes"\nkind: ConfigMap\n/);
  assert.match(cold.stderr, new RegExp(`from oci-layout:${layout}`));
  assert.equal(sealedEntries('c1').length, 1);
  assert.equal(readdirSync(join(work, 'c1-sources')).filter((n) => n.startsWith('render-')).length, 0, 'only the bundle seals renders');

  renameSync(layout, `${layout}-away`);
  try {
    const warm = await runBundle(['generate'], dir, env(sourcePath, 'c1'));
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(warm.stdout, cold.stdout);
    assert.match(warm.stderr, /\(signature NOT verified: .*\) from cache, sealed render/);
  } finally {
    renameSync(`${layout}-away`, layout);
  }
});

test('a sealed render that does not verify is never served: it is rendered again from the layer and replaced', async () => {
  const { dir, sourcePath } = await release('b', false);
  const cold = await runBundle(['generate'], dir, env(sourcePath, 'c2'));
  assert.equal(cold.code, 0, cold.stderr);
  const [entry] = sealedEntries('c2');
  const path = join(work, 'c2', entry!);
  const sealed = readFileSync(path);
  // A writer of the cache folder without the key: the same seal over another stream, then a seal of its own.
  for (const forged of [
    Buffer.concat([sealed.subarray(0, 32), Buffer.from('---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: forged\n')]),
    Buffer.concat([Buffer.alloc(32, 7), Buffer.from('---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: forged\n')]),
    Buffer.from('short'),
  ]) {
    writeFileSync(path, forged);
    const out = await runBundle(['generate'], dir, env(sourcePath, 'c2'));
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, cold.stdout);
    assert.doesNotMatch(out.stderr, /sealed render/);
    assert.deepEqual(readFileSync(path), sealed, 'the entry is rendered and sealed again');
  }
});

test('a key readable by others (or not the plugin user’s) turns the sealed renders off; the output stays the same', async () => {
  const { dir, sourcePath } = await release('c', false);
  const cold = await runBundle(['generate'], dir, env(sourcePath, 'c3'));
  assert.equal(cold.code, 0, cold.stderr);
  chmodSync(join(work, 'c3', 'render-key'), 0o644);
  const out = await runBundle(['generate'], dir, env(sourcePath, 'c3'));
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, cold.stdout);
  assert.doesNotMatch(out.stderr, /sealed render/);
  assert.match(out.stderr, /from cache/);
});

test('a sealed render never skips the signature check or the namespace rule of the run', async () => {
  const { dir, sourcePath } = await release('d', true);
  const signed = await runBundle(['generate'], dir, env(sourcePath, 'c4', { FORGE_SIGNING_PUBLIC_KEY_FILE: pubA }));
  assert.equal(signed.code, 0, signed.stderr);
  assert.match(signed.stderr, /\(signature verified\)/);
  const warm = await runBundle(['generate'], dir, env(sourcePath, 'c4', { FORGE_SIGNING_PUBLIC_KEY_FILE: pubA }));
  assert.equal(warm.code, 0, warm.stderr);
  assert.equal(warm.stdout, signed.stdout);
  assert.match(warm.stderr, /\(signature verified\) from cache, sealed render/);

  const otherKey = await runBundle(['generate'], dir, env(sourcePath, 'c4', { FORGE_SIGNING_PUBLIC_KEY_FILE: pubB }));
  assert.equal(otherKey.code, 1);
  assert.equal(otherKey.stdout, '');
  assert.match(otherKey.stderr, /refused by the signature check .*not by the configured public key/);

  // Sealed without the rule; the Application deploys to `argocd` and the release names `auth`.
  const ruled = await runBundle(
    ['generate'],
    dir,
    env(sourcePath, 'c4', { FORGE_SIGNING_PUBLIC_KEY_FILE: pubA, FORGE_CMP_DESTINATION_NAMESPACE_ONLY: 'true' }),
  );
  assert.equal(ruled.code, 1);
  assert.equal(ruled.stdout, '');
  assert.match(ruled.stderr, /names namespace "auth"; this Application deploys to namespace "argocd" only/);
});

test('off the fast path (a layer file, a pointer or an env.yaml not in Forge’s own layout) the bin loads its own copies of the YAML libraries and prints what the sources print', async () => {
  // a string the direct emitter leaves to the yaml package: its layer file is not in the own layout
  const script = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'script' }, data: { 'run.sh': '  indented\n\ttabbed: é\n' } };
  const { dir, sourcePath, sha, image } = await release('e', false, [script]);
  // a pointer edited by hand (a comment), and an EnvironmentConfig beside it
  writeFileSync(join(dir, 'release.yaml'), `# kept by hand\n${renderPointer(pointerFor({ release: sha, digest: image.manifest.digest }))}`);
  writeFileSync(
    join(dir, 'env.yaml'),
    'apiVersion: apiextensions.crossplane.io/v1beta1\nkind: EnvironmentConfig\nmetadata: {name: auth}\ndata: {region: eu}\n',
  );
  const fromSources = await runPlugin(['generate'], dir, env(sourcePath, 'c5-sources'));
  assert.equal(fromSources.code, 0, fromSources.stderr);
  const bundled = await runBundle(['generate'], dir, env(sourcePath, 'c5'));
  assert.equal(bundled.code, 0, bundled.stderr);
  assert.equal(bundled.stdout, fromSources.stdout);
  assert.match(bundled.stdout, /run\.sh: "  indented\\n\\ttabbed: é\\n"/);
  assert.match(bundled.stdout, /kind: EnvironmentConfig/);
  // the libraries are files of their own, not in what every run loads
  const everyRun = [
    join(bin, 'main.js'),
    ...readdirSync(join(bin, 'chunks'))
      .filter((n) => n.startsWith('chunk-'))
      .map((n) => join(bin, 'chunks', n)),
  ];
  for (const file of everyRun) assert.doesNotMatch(readFileSync(file, 'utf8'), /\bComposer\b|function loadAll\b/, file);
  assert.match(readFileSync(join(bin, 'chunks', 'lazy-yaml.cjs'), 'utf8'), /\bComposer\b/);
  assert.match(readFileSync(join(bin, 'chunks', 'lazy-js-yaml.cjs'), 'utf8'), /function loadAll/);
});
