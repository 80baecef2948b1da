/**
 * `forge cmp generate` (DESIGN.md §9): run by Argo CD's cmp-server in the Application's source
 * directory. Reads and validates `release.yaml`, takes the release's resources from the disk
 * cache or pulls them by the pointer's digest, and writes the YAML stream (then `env.yaml`,
 * when present) to stdout. Nothing else goes to stdout. In the published bundle
 * (scripts/bundle-cmp.mjs) the stream of a resources layer rendered before is served from a
 * sealed cache entry (RenderMemo, src/cmp/cache.ts) after every other check has run (issue 18).
 */
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { sha256Digest } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import { imageRepository } from '../core/identity.js';
import type { ReleasePointer } from '../core/pointer.js';
import { openReleaseStore, type ReleaseStore } from '../registry/index.js';
import { BlobCache, CachingStore, RenderMemo } from './cache.js';
import { environmentConfigDocument } from './environment-config.js';
import { POINTER_FILE, readPointerFile, readSourceFile } from './pointer-file.js';
import { pullRelease } from './pull.js';
import type { CmpSettings } from './settings.js';
import { resourceStream } from './stream.js';

export const ENVIRONMENT_CONFIG_FILE = 'env.yaml';

/**
 * The renderer's build: set by scripts/bundle-cmp.mjs in the published `forge-cmp` bundle (the
 * sha256 of every source file bundled into it). A sealed render (RenderMemo) is used only when
 * it is known, so a new build never serves a stream an older one rendered.
 */
declare const FORGE_CMP_BUILD: string | undefined;
const RENDERER_BUILD = typeof FORGE_CMP_BUILD === 'string' ? FORGE_CMP_BUILD : undefined;
/**
 * Up to this much YAML, the render runs without V8's optimizing compiler (`--max-opt=1`:
 * interpreter and Sparkplug only; issue 18, plugin cold start). In a process that renders once
 * and exits, optimizing the YAML library costs more CPU than it saves for a small release (200
 * resources, 100 KB: about 40% less CPU on the bench machine); from about 500 KB on it pays,
 * so larger releases keep the default.
 */
const BASELINE_TIER_MAX_CHARS = 256 * 1024;
/** An EnvironmentConfig is small; a larger env.yaml is refused before it is parsed. */
const MAX_ENVIRONMENT_CONFIG_BYTES = 1024 * 1024;

export interface GenerateIo {
  out: (text: string) => void;
  log: (line: string) => void;
}

/** `file` as the operator knows it: under the Application's source path when Argo CD gave one. */
function label(settings: CmpSettings, file: string): string {
  const base = settings.app.sourcePath?.replace(/^\.?\/*/, '').replace(/\/+$/, '');
  return base ? `${base}/${file}` : file;
}

export async function generate(dir: string, settings: CmpSettings, io: GenerateIo): Promise<void> {
  const started = Date.now();
  const places = settings.app.sourcePath ? [dir, settings.app.sourcePath] : [dir];
  const pointer = await readPointerFile(dir, label(settings, POINTER_FILE), places);
  const envLabel = label(settings, ENVIRONMENT_CONFIG_FILE);
  const envConfig = await readSourceFile(dir, ENVIRONMENT_CONFIG_FILE, envLabel, MAX_ENVIRONMENT_CONFIG_BYTES);
  const envDocument = envConfig === undefined ? '' : environmentConfigDocument(envConfig, envLabel);

  const publicKey = settings.signingPublicKeyFile ? await readPublicKey(settings.signingPublicKeyFile) : undefined;

  // Every run checks what it renders, wherever the bytes come from (issue 19 item 4): the cache
  // holds content-addressed registry bytes only, and the signature is verified each time.
  const inner = openStore(pointer, settings);
  const cache = new BlobCache(settings.cacheDir, settings.cacheMaxBytes);
  let store = new CachingStore(inner, cache, true, io.log);
  // The sealed render of the resources layer (src/cmp/cache.ts RenderMemo): only in the bundle.
  const memo = RENDERER_BUILD ? await RenderMemo.open(cache).catch(() => undefined) : undefined;
  let release: Rendered;
  try {
    release = await render(store, pointer, settings, publicKey, memo && { memo, read: true, warn: io.log });
  } catch (err) {
    if (!store.fromCache) throw err;
    // Something read from the cache did not pass a check: never trust it, ask the registry
    // (whose answer, if it fails too, is the error reported), and render the layer again.
    store = new CachingStore(inner, cache, false, io.log);
    release = await render(store, pointer, settings, publicKey, memo && { memo, read: false, warn: io.log });
    io.log(`cached data for ${pointer.digest} did not pass a check (${(err as Error).message}); pulled it again from ${settings.registry}`);
  }
  const source = store.fromInner ? settings.registry! : release.memoized ? 'cache, sealed render' : 'cache';
  io.out(release.stream + envDocument);

  const app = settings.app.name ? `${settings.app.namespace ? `${settings.app.namespace}/` : ''}${settings.app.name}` : dir;
  io.log(
    `${app}: ${pointer.repository}/${pointer.project} release ${release.releaseNumber || '?'} (${pointer.release.slice(0, 7)}) in ${pointer.environment}, ` +
      `${pointer.digest}${publicKey ? ' (signature verified)' : ' (signature NOT verified: FORGE_SIGNING_PUBLIC_KEY_FILE is not set, nothing was checked)'} from ${source}${envDocument ? ` + ${ENVIRONMENT_CONFIG_FILE}` : ''}${settings.app.revision ? ` at revision ${settings.app.revision.slice(0, 12)}` : ''}` +
      ` in ${Date.now() - started} ms`,
  );
}

interface Rendered {
  releaseNumber: number;
  stream: string;
  /** The stream came from a sealed render (RenderMemo), not from parsing the layer. */
  memoized: boolean;
}

/** The render memo for one attempt: `read` false stores renders without using stored ones. */
interface MemoUse {
  memo: RenderMemo;
  read: boolean;
  warn: (line: string) => void;
}

/** The registry the settings name; without one, a store whose every read says the release is not cached and FORGE_REGISTRY is unset. */
function openStore(pointer: ReleasePointer, settings: CmpSettings): ReleaseStore {
  if (!settings.registry) {
    const fail = () =>
      Promise.reject(
        new ForgeError(
          'validation_error',
          `release ${pointer.digest} is not in the cache and FORGE_REGISTRY is not set; expected host[:port][/prefix] or oci-layout:PATH`,
          { field: 'FORGE_REGISTRY' },
        ),
      );
    return { registry: 'cache', getManifest: fail, getBlob: fail, push: fail, pushBlobs: fail, ping: fail };
  }
  return openReleaseStore({
    registry: settings.registry,
    dataDir: '.',
    username: settings.username,
    password: settings.password,
    insecure: settings.insecure,
    tokenRealmHosts: settings.tokenRealmHosts,
  });
}

/** The configured public key (PEM) and its identity in the cache: the sha256 of the file's text. */
async function readPublicKey(file: string): Promise<{ pem: string; id: string }> {
  try {
    const pem = await readFile(file, 'utf8');
    // A key set with no key must not read as "nothing to check" (issue 13 item 6): refuse.
    if (!pem.includes('-----BEGIN PUBLIC KEY-----'))
      throw new ForgeError(
        'validation_error',
        `FORGE_SIGNING_PUBLIC_KEY_FILE "${file}" holds no public key: put the installation's published key set there (forge signing-key list -o pem)`,
        { field: 'FORGE_SIGNING_PUBLIC_KEY_FILE' },
      );
    return { pem, id: sha256Digest(Buffer.from(pem)) };
  } catch (err) {
    if (err instanceof ForgeError) throw err;
    throw new ForgeError(
      'validation_error',
      `FORGE_SIGNING_PUBLIC_KEY_FILE names "${file}", which cannot be read: ${(err as Error).message}`,
      { field: 'FORGE_SIGNING_PUBLIC_KEY_FILE' },
    );
  }
}

/** The release's YAML stream from `store`, after the signature check (when a key is configured) and every check of pullRelease. */
async function render(
  store: ReleaseStore,
  pointer: ReleasePointer,
  settings: CmpSettings,
  publicKey?: { pem: string; id: string },
  memo?: MemoUse,
): Promise<Rendered> {
  if (publicKey) {
    // The signature verifier is loaded only when a key is configured.
    const { verifyStoredRelease } = await import('../signing/index.js');
    try {
      await verifyStoredRelease(store, imageRepository(pointer), pointer.digest, publicKey.pem);
    } catch (err) {
      if (!(err instanceof ForgeError)) throw err;
      const release = `${store.registry}/${imageRepository(pointer)}@${pointer.digest}`;
      // The registry failing (down, credentials refused) is said as such: it is not a verdict
      // on the signature (issue 19, attack review F).
      if (err.code === 'registry_unavailable')
        throw new ForgeError(err.code, `${release}: could not fetch its signature from the registry: ${err.message}`, err.details);
      throw new ForgeError(
        err.code,
        `${release}: refused by the signature check ` + `(FORGE_SIGNING_PUBLIC_KEY_FILE ${settings.signingPublicKeyFile}): ${err.message}`,
        err.details,
      );
    }
  }
  const only = settings.destinationNamespaceOnly ? { namespace: settings.app.namespace ?? '' } : undefined;
  const { maxFiles, maxTotalBytes, maxFileBytes } = settings.limits;
  // Everything the stream depends on: the renderer, the layer's content and media type, the
  // extraction limits it passed and the namespace rule it was checked against.
  const input = (layer: { digest: string; mediaType: string }) =>
    [
      'forge-cmp render',
      RENDERER_BUILD,
      layer.digest,
      layer.mediaType,
      `limits ${maxFiles} ${maxTotalBytes} ${maxFileBytes}`,
      only ? `namespace ${only.namespace}` : 'any namespace',
    ].join('\0');
  const pulled = await pullRelease(
    store,
    pointer,
    settings.limits,
    memo?.read ? (layer) => memo.memo.read(input(layer)).catch(() => undefined) : undefined,
  );
  if (pulled.sealedStream !== undefined) return { releaseNumber: pulled.releaseNumber, stream: pulled.sealedStream, memoized: true };
  if (pulled.files.reduce((sum, f) => sum + f.yaml.length, 0) <= BASELINE_TIER_MAX_CHARS) setFlagsFromString('--max-opt=1');
  const stream = resourceStream(pulled.files, (path) => `${pulled.image}: resources layer ${pulled.resourcesDigest}: ${path}`, only);
  if (memo) {
    await memo.memo
      .write(input({ digest: pulled.resourcesDigest, mediaType: pulled.resourcesMediaType }), stream)
      .catch((err: Error) => memo.warn(`warning: could not write the cache: ${err.message}`));
  }
  return { releaseNumber: pulled.releaseNumber, stream, memoized: false };
}
