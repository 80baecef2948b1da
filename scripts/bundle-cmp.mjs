#!/usr/bin/env node
/**
 * Bundles the Argo CD plugin (`forge-cmp`, src/cmp/main.ts) into one ES module, so that Argo
 * CD's start of a new process per render reads and compiles one file instead of resolving and
 * loading some hundred modules from node_modules (issue 18, plugin cold start). The YAML
 * libraries are files of their own, loaded only off the fast path (lazyLibraries). The signature
 * verifier (@sigstore/*) is a separate chunk, loaded only when FORGE_SIGNING_PUBLIC_KEY_FILE is
 * set (src/cmp/generate.ts imports it lazily). Run by `npm run build` after tsc: it replaces
 * tsc's dist/src/cmp/main.js (the package's `forge-cmp` bin) with the bundle; the rest of
 * dist/src/cmp stays for `forge cmp` (the CLI). bench/cmp.ts and test/cmp-bundle.test.ts build
 * it the same way into a folder of their own.
 *
 *   node scripts/bundle-cmp.mjs [OUTDIR]     # default dist/src/cmp
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * src/core/yaml-libraries.ts loads `yaml` and `js-yaml` with createRequire on first use, which
 * esbuild does not follow. The plugin needs them only off its fast path (a layer file or pointer
 * not in Forge's own layout, an env.yaml), so each is bundled into a CommonJS file of its own in
 * chunks/ (LAZY), and those calls load that file: the plugin's start compiles neither library
 * (issue 18, plugin cold start). The build fails if the calls are not there as expected.
 */
const LIBRARIES = resolve(ROOT, 'src/core/yaml-libraries.ts');
const LAZY = { yaml: 'lazy-yaml.cjs', 'js-yaml': 'lazy-js-yaml.cjs' };
const lazyLibraries = {
  name: 'forge-lazy-yaml-libraries',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]core[\\/]yaml-libraries\.ts$/ }, (args) => {
      if (resolve(args.path) !== LIBRARIES) return undefined;
      let text = readFileSync(args.path, 'utf8');
      for (const [name, file] of Object.entries(LAZY)) {
        const call = `createRequire(import.meta.url)('${name}')`;
        if (!text.includes(call)) throw new Error(`bundle-cmp: ${LIBRARIES} no longer holds ${call}; update scripts/bundle-cmp.mjs`);
        // this module lands in a shared chunk under chunks/, beside the file (checked after the build)
        text = text.replace(call, `createRequire(import.meta.url)('./${file}')`);
      }
      return { contents: text, loader: 'ts' };
    });
  },
};

/**
 * The plugin verifies signatures and never signs, but src/signing/index.ts imports
 * @sigstore/sign (with make-fetch-happen and cacache: most of the verifier chunk's load time)
 * for signDigest. In the bundle it is a stub whose DSSEBundleBuilder throws.
 */
const STUB = 'forge-cmp-stub';
const noSigning = {
  name: 'forge-cmp-no-signing',
  setup(b) {
    b.onResolve({ filter: /^@sigstore\/sign$/ }, (args) => ({ path: args.path, namespace: STUB }));
    b.onLoad({ filter: /.*/, namespace: STUB }, () => ({
      contents:
        "export class DSSEBundleBuilder { constructor() { throw new Error('forge-cmp verifies signatures and never signs: @sigstore/sign is not in its bundle'); } }",
      loader: 'js',
    }));
  },
};

/** Writes `<outdir>/main.js` (and `<outdir>/chunks/*.js`); returns the entry point's path. */
export async function bundleCmp(outdir = join(ROOT, 'dist/src/cmp')) {
  const options = {
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, 'src/cmp/main.ts') },
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The CommonJS packages bundled here (yaml, @sigstore/*) call require() for Node's own modules.
    banner: {
      js: "import { createRequire as forgeCreateRequire } from 'node:module';\nconst require = forgeCreateRequire(import.meta.url);",
    },
    plugins: [lazyLibraries, noSigning],
    legalComments: 'none',
    logLevel: 'warning',
  };
  // The build's identity (FORGE_CMP_BUILD, src/cmp/generate.ts): the sha256 of every file
  // bundled, so that a sealed render is only ever served by the build that rendered it.
  const lazyOptions = {
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(LAZY).map(([name, file]) => [`chunks/${file.replace(/\.cjs$/, '')}`, name])),
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'warning',
  };
  const { metafile } = await build({ ...options, write: false, metafile: true });
  const { metafile: lazyMetafile } = await build({ ...lazyOptions, write: false, metafile: true });
  const hash = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url)));
  for (const input of [...new Set([...Object.keys(metafile.inputs), ...Object.keys(lazyMetafile.inputs)])].sort()) {
    // A stub's content is in this script, hashed above.
    const content = input.startsWith(`${STUB}:`) ? '' : readFileSync(resolve(ROOT, input));
    hash.update(`${input}\0`).update(content).update('\0');
  }
  const id = hash.digest('hex');
  // Chunks of an earlier build (their names carry a hash) would stay beside the new ones.
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
  const built = await build({ ...options, define: { FORGE_CMP_BUILD: JSON.stringify(id) }, metafile: true });
  // the lazy loads are relative to the chunk holding src/core/yaml-libraries.ts: it must be one under chunks/
  const holder = Object.entries(built.metafile.outputs).find(([, o]) => Object.keys(o.inputs).some((i) => resolve(ROOT, i) === LIBRARIES));
  if (!holder || !/(^|\/)chunks\/[^/]+\.js$/.test(holder[0]))
    throw new Error(
      `bundle-cmp: src/core/yaml-libraries.ts is in ${holder?.[0] ?? 'no output'}, not a shared chunk under chunks/; update lazyLibraries`,
    );
  await build(lazyOptions);
  return join(outdir, 'main.js');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await bundleCmp(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`bundle-cmp: ${out}\n`);
}
