/** `forge cmp discover` (Argo CD's discover.find.command contract) and the pointer validation both commands share. */

import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { renderPointer } from '../src/core/pointer.js';
import { argoEnv, pointerFor, runPlugin, writePointer } from './support/cmp.js';
import { tempDir } from './support/forge.js';

const work = tempDir('forge-cmp-pointer-');
after(() => rmSync(work, { recursive: true, force: true }));
const DIGEST = `sha256:${'1'.repeat(64)}`;
const FILE = 'production/apps/acme/mono/auth-service/release.yaml';
let n = 0;

function folder(text: string) {
  return writePointer(join(work, `case-${++n}`), pointerFor({ release: 'a'.repeat(40), digest: DIGEST }), text);
}

test('discover: a valid pointer (40 or 64 hex sha) prints release.yaml and exits 0', async () => {
  for (const release of ['a'.repeat(40), 'b'.repeat(64)]) {
    const { dir, sourcePath } = folder(renderPointer(pointerFor({ release, digest: DIGEST })));
    const out = await runPlugin(['discover'], dir, argoEnv(sourcePath));
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'release.yaml\n');
  }
  const { dir, sourcePath } = folder(renderPointer(pointerFor({ release: 'c'.repeat(40), digest: DIGEST })));
  const viaForge = await runPlugin(['discover'], dir, argoEnv(sourcePath), 'forge');
  assert.equal(viaForge.code, 0, viaForge.stderr);
  assert.equal(viaForge.stdout, 'release.yaml\n');
});

test('discover: anything but a valid pointer prints nothing on stdout and exits non-zero', async () => {
  const valid = renderPointer(pointerFor({ release: 'a'.repeat(40), digest: DIGEST }));
  const invalid = [
    valid.replace('a'.repeat(40), 'a'.repeat(39)),
    valid.replace('forge.projectcatalyst.io/v1alpha1', 'forge.projectcatalyst.io/v2'),
    'apiVersion: apiextensions.crossplane.io/v1beta1\nkind: EnvironmentConfig\nmetadata: {name: x}\ndata: {}\n',
    'not: [valid',
  ];
  for (const text of invalid) {
    const { dir, sourcePath } = folder(text);
    const out = await runPlugin(['discover'], dir, argoEnv(sourcePath));
    assert.notEqual(out.code, 0, text);
    assert.equal(out.stdout, '', text);
    assert.match(out.stderr, /discover failed: release\.yaml: /);
  }
  const empty = join(work, 'no-pointer');
  mkdirSync(empty);
  writeFileSync(join(empty, 'kustomization.yaml'), 'resources: []\n');
  const none = await runPlugin(['discover'], empty, argoEnv('somewhere/else'));
  assert.notEqual(none.code, 0);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /no release\.yaml in /);
});

test('generate: a bad pointer fails before any pull, naming the file (under the source path), the field and what was expected', async () => {
  const valid = renderPointer(pointerFor({ release: 'a'.repeat(40), digest: DIGEST }));
  const cases: [string, RegExp][] = [
    [
      valid.replace('a'.repeat(40), 'xyz'),
      new RegExp(`${FILE}: spec\\.release: "xyz" is not a full commit sha \\(40 or 64 hex characters\\)`),
    ],
    [valid.replace('a'.repeat(40), 'A'.repeat(40)), new RegExp(`${FILE}: spec\\.release: "A{40}" must be lower-case hex`)],
    [
      valid.replace('forge.projectcatalyst.io/v1alpha1', 'forge.projectcatalyst.io/v9'),
      new RegExp(`${FILE}: apiVersion is "forge.projectcatalyst.io/v9"; expected "forge.projectcatalyst.io/v1alpha1"`),
    ],
    [valid.replace(DIGEST, 'sha256:abc'), new RegExp(`${FILE}: spec\\.digest: "sha256:abc" is not a manifest digest`)],
    [valid.replace(/ {2}release: .*\n/, ''), new RegExp(`${FILE}: spec\\.release is missing; expected a non-empty string`)],
  ];
  for (const [text, pattern] of cases) {
    const { dir, sourcePath } = folder(text);
    // An unreachable registry: the failure must come from validation, not from a pull.
    const out = await runPlugin(
      ['generate'],
      dir,
      argoEnv(sourcePath, { FORGE_REGISTRY: '127.0.0.1:1', FORGE_CMP_CACHE_DIR: join(work, 'cache') }),
    );
    assert.equal(out.code, 1, text);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, pattern);
  }
});

test('usage errors exit 2 with the usage on stderr', async () => {
  for (const args of [[], ['render'], ['generate', 'extra']]) {
    const out = await runPlugin(args, work, {});
    assert.equal(out.code, 2);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, /usage: forge-cmp discover\|generate/);
  }
});
