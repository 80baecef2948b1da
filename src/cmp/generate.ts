/**
 * `forge cmp generate` (DESIGN.md §9): run by Argo CD's cmp-server in the Application's source
 * directory. Reads and validates `release.yaml`, takes the release's resources from the disk
 * cache or pulls them by the pointer's digest, and writes the YAML stream (then `env.yaml`,
 * when present) to stdout. Nothing else goes to stdout.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Digest } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import { imageRepository } from '../core/identity.js';
import type { ReleasePointer } from '../core/pointer.js';
import { type CachedRelease, ResourceCache } from './cache.js';
import { environmentConfigDocument } from './environment-config.js';
import { POINTER_FILE, readPointerFile } from './pointer-file.js';
import type { CmpSettings } from './settings.js';

export const ENVIRONMENT_CONFIG_FILE = 'env.yaml';

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
  const pointer = await readPointerFile(dir, label(settings, POINTER_FILE));
  const envConfig = await readOptional(join(dir, ENVIRONMENT_CONFIG_FILE));
  const envDocument = envConfig === undefined ? '' : environmentConfigDocument(envConfig, label(settings, ENVIRONMENT_CONFIG_FILE));

  const publicKey = settings.signingPublicKeyFile ? await readPublicKey(settings.signingPublicKeyFile) : undefined;

  const cache = new ResourceCache(settings.cacheDir, settings.cacheMaxBytes);
  let release = await cache.get(pointer.digest);
  let source = 'cache';
  // A cached release counts only if it was verified with the key configured now (or none is).
  if (!release || !sameRelease(release, pointer) || (publicKey && release.verifiedWith !== publicKey.id)) {
    release = await pull(pointer, settings, publicKey);
    source = settings.registry!;
    try {
      if (!(await cache.put(pointer.digest, release)))
        io.log(`not caching ${pointer.digest}: larger than FORGE_CMP_CACHE_MAX_BYTES (${settings.cacheMaxBytes})`);
    } catch (err) {
      io.log(`warning: could not write the cache in ${settings.cacheDir}: ${(err as Error).message}`);
    }
  }
  io.out(release.stream + envDocument);

  const app = settings.app.name ? `${settings.app.namespace ? `${settings.app.namespace}/` : ''}${settings.app.name}` : dir;
  io.log(
    `${app}: ${pointer.repository}/${pointer.project} release ${release.releaseNumber || '?'} (${pointer.release.slice(0, 7)}) in ${pointer.environment}, ` +
      `${pointer.digest}${publicKey ? ' (signature verified)' : ' (signature NOT verified: FORGE_SIGNING_PUBLIC_KEY_FILE is not set, nothing was checked)'} from ${source}${envDocument ? ` + ${ENVIRONMENT_CONFIG_FILE}` : ''}${settings.app.revision ? ` at revision ${settings.app.revision.slice(0, 12)}` : ''}` +
      ` in ${Date.now() - started} ms`,
  );
}

function sameRelease(c: CachedRelease, p: ReleasePointer): boolean {
  return c.repository === p.repository && c.project === p.project && c.sha === p.release;
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

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The registry client, the YAML reader (and the signature verifier) are loaded only on a cache miss, so a warm run starts faster. */
async function pull(pointer: ReleasePointer, settings: CmpSettings, publicKey?: { pem: string; id: string }): Promise<CachedRelease> {
  if (!settings.registry) {
    throw new ForgeError(
      'validation_error',
      `release ${pointer.digest} is not in the cache and FORGE_REGISTRY is not set; expected host[:port][/prefix] or oci-layout:PATH`,
      { field: 'FORGE_REGISTRY' },
    );
  }
  const [{ openReleaseStore }, { pullRelease }, { resourceStream }] = await Promise.all([
    import('../registry/index.js'),
    import('./pull.js'),
    import('./stream.js'),
  ]);
  const store = openReleaseStore({
    registry: settings.registry,
    dataDir: '.',
    username: settings.username,
    password: settings.password,
    insecure: settings.insecure,
  });
  if (publicKey) {
    const { verifyStoredRelease } = await import('../signing/index.js');
    try {
      await verifyStoredRelease(store, imageRepository(pointer), pointer.digest, publicKey.pem);
    } catch (err) {
      if (!(err instanceof ForgeError)) throw err;
      throw new ForgeError(
        err.code,
        `${store.registry}/${imageRepository(pointer)}@${pointer.digest}: refused by the signature check ` +
          `(FORGE_SIGNING_PUBLIC_KEY_FILE ${settings.signingPublicKeyFile}): ${err.message}`,
        err.details,
      );
    }
  }
  const pulled = await pullRelease(store, pointer, settings.limits);
  const stream = resourceStream(pulled.files, (path) => `${pulled.image}: resources layer ${pulled.resourcesDigest}: ${path}`);
  return {
    repository: pointer.repository,
    project: pointer.project,
    sha: pointer.release,
    releaseNumber: pulled.releaseNumber,
    stream,
    ...(publicKey ? { verifiedWith: publicKey.id } : {}),
  };
}
