/** `forge cmp discover` (Argo CD's discover.find.command contract) and the pointer validation both commands share. */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

test('--help (or -h, help) prints the commands and where the settings are on stdout, exit 0', async () => {
  for (const args of [['--help'], ['-h'], ['help'], ['generate', '--help']]) {
    const out = await runPlugin(args, work, {});
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /usage: forge-cmp discover\|generate/);
    assert.match(out.stdout, /FORGE_REGISTRY/);
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

test('a release.yaml or env.yaml that is a symbolic link, a FIFO or huge is refused; the error never shows what a link points to', async () => {
  const secret = join(work, 'secret-token');
  writeFileSync(secret, 'apiVersion: CANARY-SECRET-0123456789\n');
  const run = (cmd: string, dir: string, sourcePath: string) =>
    runPlugin([cmd], dir, argoEnv(sourcePath, { FORGE_REGISTRY: '127.0.0.1:1', FORGE_CMP_CACHE_DIR: join(work, 'cache') }));

  const linked = folder('placeholder');
  rmSync(join(linked.dir, 'release.yaml'));
  symlinkSync(secret, join(linked.dir, 'release.yaml'));
  for (const cmd of ['discover', 'generate']) {
    const out = await run(cmd, linked.dir, linked.sourcePath);
    assert.equal(out.code, 1, cmd);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, /release\.yaml: is a symbolic link; the plugin reads only regular files/);
    assert.doesNotMatch(out.stderr, /CANARY-SECRET|secret-token/, cmd);
  }

  // A link to a valid pointer is refused just the same: what is in the folder is what counts.
  const target = folder(renderPointer(pointerFor({ release: 'a'.repeat(40), digest: DIGEST })));
  const viaLink = folder('placeholder');
  rmSync(join(viaLink.dir, 'release.yaml'));
  symlinkSync(join(target.dir, 'release.yaml'), join(viaLink.dir, 'release.yaml'));
  assert.match((await run('discover', viaLink.dir, viaLink.sourcePath)).stderr, /is a symbolic link/);

  const envLink = folder(renderPointer(pointerFor({ release: 'a'.repeat(40), digest: DIGEST })));
  symlinkSync(secret, join(envLink.dir, 'env.yaml'));
  const envOut = await run('generate', envLink.dir, envLink.sourcePath);
  assert.equal(envOut.code, 1);
  assert.match(envOut.stderr, /env\.yaml: is a symbolic link/);
  assert.doesNotMatch(envOut.stderr, /CANARY-SECRET|secret-token/);

  const fifo = folder('placeholder');
  rmSync(join(fifo.dir, 'release.yaml'));
  execFileSync('mkfifo', [join(fifo.dir, 'release.yaml')]);
  const fifoOut = await run('discover', fifo.dir, fifo.sourcePath);
  assert.equal(fifoOut.code, 1);
  assert.match(fifoOut.stderr, /release\.yaml: is not a regular file/);

  const huge = folder(`${renderPointer(pointerFor({ release: 'a'.repeat(40), digest: DIGEST }))}#${'x'.repeat(100_000)}\n`);
  assert.match((await run('discover', huge.dir, huge.sourcePath)).stderr, /release\.yaml: is 1\d{5} bytes; expected at most 65536/);
});

test("a pointer is bound to its folder: another Application's environment, repository or project is refused", async () => {
  const pointer = pointerFor({ release: 'a'.repeat(40), digest: DIGEST });
  const text = renderPointer(pointer);
  const moved = (sourcePath: string) => {
    const dir = join(work, `moved-${++n}`, sourcePath);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'release.yaml'), text);
    return dir;
  };
  for (const sourcePath of [
    'staging/apps/acme/mono/auth-service', // another environment
    'production/apps/acme/other/auth-service', // another repository
    'production/apps/evil/mono/auth-service', // another owner
    'production/apps/acme/mono/billing', // another project
    'production/acme/mono/auth-service', // not under apps/
    'release-here',
  ]) {
    const dir = moved(sourcePath);
    for (const cmd of ['discover', 'generate']) {
      const out = await runPlugin(
        [cmd],
        dir,
        argoEnv(sourcePath, { FORGE_REGISTRY: '127.0.0.1:1', FORGE_CMP_CACHE_DIR: join(work, 'cache') }),
      );
      assert.equal(out.code, 1, `${cmd} in ${sourcePath}`);
      assert.equal(out.stdout, '');
      assert.match(
        out.stderr,
        /this pointer is for acme\/mono\/auth-service in production, so it belongs in production\/apps\/acme\/mono\/auth-service\/, but it sits in /,
      );
    }
  }
  // The folder is right, but Argo CD says the Application's source path is another one (a linked folder).
  const right = moved('production/apps/acme/mono/auth-service');
  const out = await runPlugin(
    ['generate'],
    right,
    argoEnv('staging/apps/acme/mono/auth-service', { FORGE_REGISTRY: '127.0.0.1:1', FORGE_CMP_CACHE_DIR: join(work, 'cache') }),
  );
  assert.equal(out.code, 1);
  assert.match(out.stderr, /but it sits in staging\/apps\/acme\/mono\/auth-service\//);
});
