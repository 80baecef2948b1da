/**
 * Artifact producers (DESIGN.md §4): `command` runs a command that leaves a file, a directory
 * or an OCI layout at `output`; `archive` packs a directory as a reproducible tar.gz;
 * `oci-layout` takes an image already built into a layout. Each gives the OCI content a
 * publisher pushes and the producer outputs (`digest`, `size`, `media_type`).
 */
import { execFile } from 'node:child_process';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { Env } from '../config/environment.js';
import { type Blob, makeBlob } from '../core/digest.js';
import { ForgeError } from '../core/errors.js';
import type { ArtifactConfig, Producer, ProducerOutputs } from './artifact-config.js';
import { archiveDirectory } from './artifact-paths.js';

export const EMPTY_CONFIG = makeBlob('application/vnd.oci.empty.v1+json', Buffer.from('{}'));
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** An OCI image (or index) ready to push: the blobs, the manifests an index names, the top manifest. */
export interface OciContent {
  manifest: Blob;
  blobs: Blob[];
  children: Blob[];
  /** What the producer made: an image's manifest, or the packed file. */
  payload: Blob;
}

export interface Produced {
  outputs: ProducerOutputs;
  content: OciContent;
}

export interface BuildContext {
  projectDir: string;
  project: string;
  sha: string;
  /** Seconds since the epoch for file times in archives (the commit time), 0 when unknown. */
  mtime: number;
  /** The environment producer commands run in (the CLI's, from its settings), plus FORGE_PROJECT, FORGE_ARTIFACT, FORGE_COMMIT_SHA. */
  environment: Env;
}

function failed(artifact: string, message: string, details?: Record<string, unknown>): ForgeError {
  return new ForgeError('validation_error', `artifact "${artifact}": ${message}`, details);
}

/** Reproducible tar.gz of a directory: sorted entries, uid/gid 0, the given mtime, 0644/0755 modes. */
export async function packDirectory(dir: string, mtime: number): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((ok, fail) => {
    tar.on('end', ok);
    tar.on('error', fail);
  });
  const date = new Date(mtime * 1000);
  const add = (header: Parameters<typeof tar.entry>[0], body?: Buffer) =>
    new Promise<void>((ok, fail) =>
      tar.entry({ uid: 0, gid: 0, uname: '', gname: '', mtime: date, ...header }, body ?? Buffer.alloc(0), (e) => (e ? fail(e) : ok())),
    );
  async function walk(abs: string, rel: string): Promise<void> {
    const names = (await readdir(abs)).sort();
    for (const n of names) {
      const path = join(abs, n);
      const name = rel ? `${rel}/${n}` : n;
      const st = await lstat(path);
      if (st.isDirectory()) {
        await add({ name: `${name}/`, type: 'directory', mode: 0o755 });
        await walk(path, name);
      } else if (st.isSymbolicLink()) {
        await add({ name, type: 'symlink', linkname: await readlink(path), mode: 0o777 });
      } else if (st.isFile()) {
        await add({ name, type: 'file', mode: st.mode & 0o111 ? 0o755 : 0o644 }, await readFile(path));
      }
    }
  }
  await walk(dir, '');
  tar.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}

/** Wraps one blob as an OCI artifact manifest (empty config, one layer titled with the file name). */
export function artifactManifest(a: ArtifactConfig, layer: Blob, title: string): OciContent {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: `application/vnd.forge.artifact.${a.type}.v1`,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size },
    layers: [
      { mediaType: layer.mediaType, digest: layer.digest, size: layer.size, annotations: { 'org.opencontainers.image.title': title } },
    ],
  };
  return {
    manifest: makeBlob(OCI_MANIFEST, Buffer.from(JSON.stringify(manifest))),
    blobs: [EMPTY_CONFIG, layer],
    children: [],
    payload: layer,
  };
}

/** The single image of an OCI image layout: its manifest (or index, with the manifests it names) and every blob. */
export async function readOciLayout(artifact: string, dir: string): Promise<OciContent> {
  const blob = async (digest: string, mediaType: string): Promise<Blob> => {
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    if (!m) throw failed(artifact, `OCI layout ${dir} names an unsupported digest ${digest}`);
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, 'blobs', 'sha256', m[1]));
    } catch {
      throw failed(artifact, `OCI layout ${dir} lacks blob ${digest}`);
    }
    const b = makeBlob(mediaType, bytes);
    if (b.digest !== digest) throw failed(artifact, `OCI layout ${dir}: blob ${digest} has digest ${b.digest}`);
    return b;
  };
  let index: { manifests?: { mediaType: string; digest: string }[] };
  try {
    index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  } catch (e) {
    throw failed(artifact, `${dir} is not an OCI image layout (index.json: ${(e as Error).message})`);
  }
  const entries = index.manifests ?? [];
  if (entries.length !== 1) throw failed(artifact, `OCI layout ${dir} must hold exactly one image, it holds ${entries.length}`);
  const top = await blob(entries[0].digest, entries[0].mediaType);
  const content: OciContent = { manifest: top, blobs: [], children: [], payload: top };
  const addImage = async (manifest: Blob) => {
    const doc = JSON.parse(manifest.bytes.toString('utf8')) as {
      config: { mediaType: string; digest: string };
      layers: { mediaType: string; digest: string }[];
    };
    for (const d of [doc.config, ...doc.layers]) content.blobs.push(await blob(d.digest, d.mediaType));
  };
  if (top.mediaType === OCI_INDEX || top.mediaType === DOCKER_LIST) {
    const doc = JSON.parse(top.bytes.toString('utf8')) as { manifests: { mediaType: string; digest: string }[] };
    for (const m of doc.manifests) {
      const child = await blob(m.digest, m.mediaType);
      content.children.push(child);
      await addImage(child);
    }
  } else await addImage(top);
  return content;
}

async function runCommand(artifact: string, command: string, ctx: BuildContext): Promise<void> {
  await new Promise<void>((ok, fail) => {
    execFile(
      'sh',
      ['-c', command],
      {
        cwd: ctx.projectDir,
        env: { ...ctx.environment, FORGE_PROJECT: ctx.project, FORGE_ARTIFACT: artifact, FORGE_COMMIT_SHA: ctx.sha },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, _stdout, stderr) => {
        if (!err) return ok();
        const tail = stderr.trimEnd().split('\n').slice(-10).join('\n');
        fail(
          failed(
            artifact,
            `command "${command}" failed (${err.code !== undefined ? `exit code ${err.code}` : err.message})${tail ? `:\n${tail}` : ''}`,
          ),
        );
      },
    );
  });
}

/** The OCI content of what is at `path`: an OCI layout, a directory (packed), or a file. */
async function contentAt(a: ArtifactConfig, path: string, ctx: BuildContext): Promise<OciContent> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) throw failed(a.name, `nothing at ${path}`);
  if (st.isDirectory()) {
    if (
      await lstat(join(path, 'oci-layout')).then(
        () => true,
        () => false,
      )
    )
      return readOciLayout(a.name, path);
    return artifactManifest(a, makeBlob(TAR_GZIP, await packDirectory(path, ctx.mtime)), `${basename(path)}.tar.gz`);
  }
  return artifactManifest(a, makeBlob('application/octet-stream', await readFile(path)), basename(path));
}

/** What a producer made, and the outputs `@artifact` sees: the digest, size and media type of the payload. */
export async function produce(a: ArtifactConfig, producer: Producer, ctx: BuildContext): Promise<Produced> {
  let content: OciContent;
  if (producer.kind === 'command') {
    await runCommand(a.name, producer.run, ctx);
    content = await contentAt(a, resolve(ctx.projectDir, producer.output), ctx);
  } else if (producer.kind === 'archive') {
    const dir = await archiveDirectory(a.name, ctx.projectDir, producer.path, { mustExist: true });
    content = artifactManifest(a, makeBlob(TAR_GZIP, await packDirectory(dir, ctx.mtime)), `${a.name}.tar.gz`);
  } else {
    content = await readOciLayout(a.name, resolve(ctx.projectDir, producer.path));
  }
  const { payload } = content;
  return { outputs: { digest: payload.digest, size: payload.size, media_type: payload.mediaType }, content };
}
