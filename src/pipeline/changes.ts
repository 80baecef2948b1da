/**
 * Change detection (issue #14, docs/configuration.md "What releases a project"): a branch push
 * releases a project only when one of its inputs changed since the commit of the project's
 * previous release — not since the previous commit, so a project whose release failed, or that
 * was skipped for many commits, is released as soon as something it reads has changed.
 *
 * A project's inputs, as git pathspecs relative to the repository root:
 * - its own directory (with `.forge/`),
 * - the CUE module's `cue.mod/` (module.cue's deps, vendored packages),
 * - every package of the repository's CUE module its `.forge` imports, transitively,
 * - `release.paths` and every artifact's `inputs` (relative to the project directory; a leading
 *   `/` means the repository root).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { gitMaybe } from './git.js';

/** Paths as a project lists them (`release.paths`, artifact `inputs`) → repository-relative posix paths; outside the repository is an error. */
export function resolveInputPaths(paths: string[], projectRelDir: string, field: string): string[] {
  return paths.map((p, i) => {
    const joined = p.startsWith('/') ? posix.normalize(p.slice(1) || '.') : posix.normalize(posix.join(projectRelDir, p));
    if (joined === '..' || joined.startsWith('../'))
      throw new ForgeError('validation_error', `${field}[${i}] "${p}" is outside the repository`, { field: `${field}[${i}]` });
    return joined.replace(/\/+$/, '') || '.';
  });
}

/** The import paths of CUE source (`import "x"`, `import a "x"`, `import ( ... )`), comments ignored. */
export function cueImports(source: string): string[] {
  const text = source.replace(/\/\/[^\n]*/g, '');
  const out: string[] = [];
  for (const m of text.matchAll(/\bimport\s*(\(([^)]*)\)|(?:[A-Za-z_#$][\w$]*\s+)?"([^"]+)")/g)) {
    if (m[3]) out.push(m[3]);
    else for (const s of (m[2] ?? '').matchAll(/"([^"]+)"/g)) out.push(s[1]);
  }
  return out;
}

/** `module: "example.org/mono@v0"` of `cue.mod/module.cue` → `example.org/mono` (undefined when absent). */
export function modulePath(moduleCue: string): string | undefined {
  const m = /^\s*module\s*:\s*"([^"]+)"/m.exec(moduleCue.replace(/\/\/[^\n]*/g, ''));
  return m ? m[1].replace(/@v\d+$/, '') : undefined;
}

const posixRel = (from: string, to: string) => relative(from, to).split(sep).join('/') || '.';

async function cueFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(names.filter((n) => n.endsWith('.cue')).map((n) => readFile(join(dir, n), 'utf8')));
}

/**
 * The directories (repository-relative) of the repository's own CUE packages the project's
 * `.forge` imports, transitively. Standard-library and dependency imports are not directories
 * of the repository (their versions live in `cue.mod/`, an input of every project).
 */
export async function importedPackageDirs(root: string, moduleRoot: string, projectDir: string): Promise<string[]> {
  const mod = modulePath(await readFile(join(moduleRoot, 'cue.mod', 'module.cue'), 'utf8').catch(() => ''));
  if (!mod) return [];
  const seen = new Set<string>();
  const queue = [join(projectDir, '.forge')];
  while (queue.length) {
    const dir = queue.shift()!;
    for (const src of await cueFiles(dir)) {
      for (const imp of cueImports(src)) {
        const path = imp.replace(/@v\d+(:[\w]+)?$/, '').replace(/:[\w]+$/, '');
        if (path !== mod && !path.startsWith(`${mod}/`)) continue;
        const abs = join(moduleRoot, path.slice(mod.length));
        const rel = posixRel(root, abs);
        if (rel.startsWith('..') || seen.has(rel)) continue;
        seen.add(rel);
        queue.push(abs);
      }
    }
  }
  return [...seen].sort();
}

export interface InputSpec {
  /** The project directory, repository-relative (`.` for the root). */
  relDir: string;
  /** The CUE module root holding `cue.mod/`, repository-relative. */
  moduleRelDir: string;
  /** Imported packages of the repository's module (importedPackageDirs). */
  imports: string[];
  /** `release.paths` and artifacts' `inputs`, already repository-relative (resolveInputPaths). */
  declared: string[];
}

/** A project's inputs as sorted, de-duplicated repository-relative paths (`.` = everything). */
export function projectInputs(s: InputSpec): string[] {
  const all = [s.relDir, posix.join(s.moduleRelDir, 'cue.mod'), ...s.imports, ...s.declared].map((p) => posix.normalize(p));
  if (all.includes('.')) return ['.'];
  // Drop a path inside another listed path (git would report the same files twice over).
  const sorted = [...new Set(all)].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(`${q}/`)));
}

/** What the previous release of the project was made from (from the server). */
export interface PreviousRelease {
  release_number: number;
  commit_sha: string;
}

export type ChangeDecision = { changed: true; reason: string; files: string[]; warning?: string } | { changed: false; reason: string };

/**
 * Did any of `inputs` change between the previous release's commit and `sha`? No previous
 * release → changed (the first release). The same commit → changed (a re-run registers again;
 * the server answers with the existing release). The previous commit missing from the checkout
 * (a shallow clone) → changed, with a warning saying how to fetch deeper. `files` lists up to
 * 20 changed input files.
 */
export async function detectChange(
  root: string,
  sha: string,
  previous: PreviousRelease | undefined,
  inputs: string[],
): Promise<ChangeDecision> {
  if (!previous) return { changed: true, reason: 'first release of the project', files: [] };
  const prev = previous.commit_sha;
  if (prev === sha) return { changed: true, reason: `release #${previous.release_number} is of this commit`, files: [] };
  const present = await gitMaybe(root, ['cat-file', '-e', `${prev}^{commit}`]);
  if (present === undefined) {
    return {
      changed: true,
      reason: `the commit of release #${previous.release_number} is not in this checkout`,
      files: [],
      warning: `commit ${prev.slice(0, 12)} of release #${previous.release_number} is not in this checkout (a shallow clone?): released without change detection; fetch more history (actions/checkout fetch-depth: 0) to release only changed projects`,
    };
  }
  const out = await gitMaybe(root, ['diff', '--name-only', '--no-renames', prev, sha, '--', ...inputs.map((p) => `:(top)${p}`)]);
  if (out === undefined) {
    return {
      changed: true,
      reason: 'git could not compare the commits',
      files: [],
      warning: `git diff ${prev.slice(0, 12)} ${sha.slice(0, 12)} failed: released without change detection`,
    };
  }
  const files = out.split('\n').filter(Boolean);
  if (!files.length) {
    return {
      changed: false,
      reason: `no input changed since release #${previous.release_number} (${prev.slice(0, 12)}); inputs: ${inputs.join(', ')} (--all releases anyway)`,
    };
  }
  return {
    changed: true,
    reason: `${files.length} input file(s) changed since release #${previous.release_number}`,
    files: files.slice(0, 20),
  };
}

/** The artifact fields whose equality means "the same artifact": a digest wherever the record has one. */
function artifactDigests(artifacts: { name: string; tracking_oci_digest?: string; outputs?: unknown }[]): string {
  return JSON.stringify(
    artifacts
      .map((a) => {
        const o = (a.outputs ?? {}) as { digest?: string; uri?: string };
        return [a.name, o.digest ?? a.tracking_oci_digest ?? o.uri ?? null];
      })
      .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
  );
}

/**
 * True when a new release would hold exactly what `previous` holds: the same resources layer
 * digest (computed by the caller with the previous release's committed_at, as the server does)
 * and the same artifact digests. Such a release is not registered on a branch push (see
 * docs/configuration.md): it would be a new number for the same content and auto-deploy a no-op.
 */
export function sameContent(
  previous: { resources_digest: string; artifacts: { name: string; tracking_oci_digest?: string; outputs?: unknown }[] },
  resourcesDigest: string,
  artifacts: { name: string; tracking_oci_digest?: string; outputs?: unknown }[],
): boolean {
  return previous.resources_digest === resourcesDigest && artifactDigests(previous.artifacts) === artifactDigests(artifacts);
}

/** Every input of an evaluated project (projectInputs over its imports, `release.paths` and artifacts' `inputs`). */
export async function inputsOfProject(
  src: { dir: string; root: string; moduleRoot: string },
  config: { paths: string[]; artifacts: { name: string; inputs?: string[] }[] },
): Promise<string[]> {
  const relDir = posixRel(src.root, src.dir);
  const declared = [
    ...resolveInputPaths(config.paths, relDir, 'release.paths'),
    ...config.artifacts.flatMap((a) => resolveInputPaths(a.inputs ?? [], relDir, `artifacts.${a.name}.inputs`)),
  ];
  return projectInputs({
    relDir,
    moduleRelDir: posixRel(src.root, src.moduleRoot),
    imports: await importedPackageDirs(src.root, src.moduleRoot, src.dir),
    declared,
  });
}
