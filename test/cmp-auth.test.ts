/** The plugin against registries that need credentials: basic auth from environment variables, bearer tokens from mounted secret files. */

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildReleaseImage } from '../src/core/release-image.js';
import { openReleaseStore } from '../src/registry/index.js';
import { argoEnv, pointerFor, runPlugin, writePointer } from './support/cmp.js';
import { tempDir } from './support/forge.js';
import { startRegistry } from './support/registry.js';

const SHA = 'd'.repeat(64); // a SHA-256 commit: both sha lengths are valid everywhere

for (const auth of ['basic', 'token'] as const) {
  test(`${auth} auth: credentials from ${auth === 'basic' ? 'FORGE_REGISTRY_USERNAME/PASSWORD' : 'FORGE_REGISTRY_USERNAME_FILE/PASSWORD_FILE'}; none gives a clear error`, async (t) => {
    const reg = await startRegistry({ auth });
    const work = tempDir('forge-cmp-auth-');
    t.after(async () => {
      await reg.destroy();
      await rm(work, { recursive: true, force: true });
    });
    const image = buildReleaseImage({
      repository: 'acme/mono',
      project: 'auth-service',
      sha: SHA,
      releaseNumber: 4,
      aliases: [],
      triggers: [{ type: 'manual' }],
      source: {},
      artifacts: [],
      resources: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'secured' }, data: { auth } }],
    });
    const store = openReleaseStore({ registry: reg.host, dataDir: work, username: reg.username, password: reg.password });
    await store.push('acme/mono/auth-service', SHA, [image.config, image.metadata, image.resources], image.manifest);

    const { dir, sourcePath } = writePointer(work, pointerFor({ release: SHA, digest: image.manifest.digest }));
    const base = argoEnv(sourcePath, { FORGE_REGISTRY: reg.host });
    let credentials: Record<string, string>;
    if (auth === 'basic') {
      credentials = { FORGE_REGISTRY_USERNAME: reg.username!, FORGE_REGISTRY_PASSWORD: reg.password! };
    } else {
      writeFileSync(join(work, 'username'), `${reg.username}\n`);
      writeFileSync(join(work, 'password'), `${reg.password}\n`);
      credentials = { FORGE_REGISTRY_USERNAME_FILE: join(work, 'username'), FORGE_REGISTRY_PASSWORD_FILE: join(work, 'password') };
    }
    const ok = await runPlugin(['generate'], dir, { ...base, ...credentials, FORGE_CMP_CACHE_DIR: join(work, 'cache-ok') });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `---\napiVersion: v1\ndata:\n  auth: ${auth}\nkind: ConfigMap\nmetadata:\n  name: secured\n`);

    const none = await runPlugin(['generate'], dir, { ...base, FORGE_CMP_CACHE_DIR: join(work, 'cache-none') });
    assert.equal(none.code, 1);
    assert.equal(none.stdout, '');
    assert.match(
      none.stderr,
      auth === 'basic'
        ? /requires credentials \(set FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD\)/
        : // None configured is said as such, not as "rejected the credentials" (issue 19 item 7).
          /token service .* requires credentials \(HTTP 401\), and none are configured \(set FORGE_REGISTRY_USERNAME and FORGE_REGISTRY_PASSWORD\)/,
    );
    assert.doesNotMatch(none.stderr, /rejected/);

    // With a signature key configured, a registry that refuses the credentials is reported as the
    // registry failing, not as a signature refusal (issue 19, attack review F).
    const keyFile = join(work, 'signing-public.pem');
    writeFileSync(keyFile, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const wrong = await runPlugin(['generate'], dir, {
      ...base,
      FORGE_REGISTRY_USERNAME: reg.username!,
      FORGE_REGISTRY_PASSWORD: 'not-the-password',
      FORGE_SIGNING_PUBLIC_KEY_FILE: keyFile,
      FORGE_CMP_CACHE_DIR: join(work, 'cache-wrong'),
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /could not fetch its signature from the registry: .*rejected the credentials/);
    assert.doesNotMatch(wrong.stderr, /signature check/);

    const missingFile = await runPlugin(['generate'], dir, {
      ...base,
      FORGE_REGISTRY_PASSWORD_FILE: join(work, 'nope'),
      FORGE_CMP_CACHE_DIR: join(work, 'cache-nofile'),
    });
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, new RegExp(`FORGE_REGISTRY_PASSWORD_FILE names "${join(work, 'nope')}", which cannot be read`));
  });
}
