/**
 * Evaluating a project's configuration with the CUE engine (DESIGN.md §4): the `.forge`
 * package of the project directory, with `@artifact(...)` references replaced by the pre-pass,
 * evaluated from the root of the repository's CUE module so imports of its packages work.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { TaggingStrategy } from '../core/aliases.js';
import {
  type ArtifactRef,
  type ArtifactValue,
  findArtifactRefs,
  lookupArtifactRef,
  substituteArtifactRefs,
} from '../core/artifact-refs.js';
import { type FieldProblem, ForgeError } from '../core/errors.js';
import { projectProblem } from '../core/identity.js';
import { parseReleaseConfig, type ReleaseConfig } from '../core/triggers.js';
import { type ArtifactConfig, type ArtifactOutputs, parseArtifacts, placeholderOutputs, placeholderValue } from './artifact-config.js';
import { SCHEMA_OVERLAY, schemaOverlay } from './config-schema.js';
import type { CueEngine } from './cue-engine.js';
import { findModuleRoot } from './discovery.js';

export interface ProjectSource {
  /** Absolute project directory. */
  dir: string;
  /** The repository root (where `.forge/repo.cue` lives). */
  root: string;
  moduleRoot: string;
  /** `.forge/*.cue` files: absolute path → content. */
  files: Map<string, string>;
  /** References found by the pre-pass, with the file they are in (relative to the repository root). */
  refs: { file: string; ref: ArtifactRef }[];
}

export interface ProjectConfig {
  name: string;
  release?: ReleaseConfig;
  /** `release.paths`: more inputs of the project for change detection (relative to the project, `/` = repository root). */
  paths: string[];
  artifacts: ArtifactConfig[];
  resources: unknown[];
}

function relPath(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

export async function readProjectSource(dir: string, root: string): Promise<ProjectSource> {
  const forge = join(dir, '.forge');
  const names = (await readdir(forge)).filter((n) => n.endsWith('.cue') && n !== 'repo.cue').sort();
  const files = new Map<string, string>();
  const refs: ProjectSource['refs'] = [];
  for (const n of names) {
    const path = join(forge, n);
    const content = await readFile(path, 'utf8');
    files.set(path, content);
    const file = relPath(root, path);
    for (const ref of findArtifactRefs(content, file)) refs.push({ file, ref });
  }
  return { dir, root, moduleRoot: await findModuleRoot(dir, root), files, refs };
}

/** The engine's argument naming a package directory, relative to the module root: `./svc/.forge:project`. */
function packageArg(moduleRoot: string, dir: string, pkg: string): string {
  const rel = relPath(moduleRoot, join(dir, '.forge'));
  return `./${rel}:${pkg}`;
}

function exportPackage(
  engine: CueEngine,
  moduleRoot: string,
  dir: string,
  pkg: string,
  overlays: Record<string, string>,
  what: string,
): Promise<Record<string, unknown>> {
  // The schema overlay is Forge's own: errors name the user's files, never it.
  const internal = Object.keys(overlays).filter((p) => p.endsWith(SCHEMA_OVERLAY));
  return engine.export(moduleRoot, packageArg(moduleRoot, dir, pkg), overlays, what, internal);
}

/** `.forge/repo.cue` at the root: the tagging strategy (default `monorepo`). */
export async function loadTaggingStrategy(engine: CueEngine, root: string): Promise<TaggingStrategy> {
  const has = await readdir(join(root, '.forge')).then(
    (n) => n.includes('repo.cue'),
    () => false,
  );
  if (!has) return 'monorepo';
  const moduleRoot = await findModuleRoot(root, root);
  const repo = await exportPackage(engine, moduleRoot, root, 'repo', schemaOverlay(join(root, '.forge'), 'repo'), '.forge/repo.cue');
  const strategy = (repo.tagging as Record<string, unknown> | undefined)?.strategy ?? 'monorepo';
  if (strategy !== 'monorepo' && strategy !== 'tag-all') {
    throw new ForgeError(
      'validation_error',
      `.forge/repo.cue: tagging.strategy must be "monorepo" or "tag-all", got ${JSON.stringify(strategy)}`,
    );
  }
  return strategy;
}

/** The fields of `.forge/project.cue` (docs/configuration.md); others are the project's own helpers. */
const PROJECT_FIELDS = ['name', 'release', 'artifacts', 'deployment'];

/** Levenshtein distance of two short strings. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** `field: …did you mean…` for a top-level field that is a near miss of a project field it does not set (`deploymnet`), else undefined. */
export function misspeltFields(data: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(data)) {
    if (PROJECT_FIELDS.includes(key)) continue;
    const near = PROJECT_FIELDS.find((f) => !(f in data) && editDistance(key.toLowerCase(), f) <= 2);
    if (near) return `${key}: not a project field; did you mean "${near}"? (docs/configuration.md)`;
  }
  return undefined;
}

/** What each kind of `release.on` field holds, for the error that refuses one. */
const EXPECTED: Record<string, string> = {
  branch: 'expected a regular expression matched against the whole branch name, such as "main" or "release/.*" (no anchors needed)',
  glob: 'expected a branch glob where * matches any characters and ? one, such as "release/*"',
};

/**
 * `release` checked by parseReleaseConfig, its refusals naming the file and line the pattern is
 * written on (`svc/.forge/project.cue:7: release.on[0].branch: …`) and what the field expects.
 */
function releaseConfig(src: ProjectSource, rel: string, input: unknown): ReleaseConfig | undefined {
  try {
    return parseReleaseConfig(input);
  } catch (err) {
    const fields = (err as ForgeError).details?.fields as FieldProblem[] | undefined;
    if (!(err instanceof ForgeError) || !fields) throw err;
    const lines = fields.map((f) => {
      const kind = /\.(branch|glob)$/.exec(f.path)?.[1];
      const index = Number(/on\[(\d+)\]/.exec(f.path)?.[1] ?? -1);
      const rule = (input as { on?: Record<string, unknown>[] }).on?.[index];
      const pattern = kind && typeof rule?.[kind] === 'string' ? (rule[kind] as string) : undefined;
      const at = pattern === undefined ? undefined : locate(src, pattern);
      const where = at ?? `${rel === '.' ? '' : `${rel}/`}.forge`;
      return `${where}: ${f.path}: ${f.message}${kind ? `; ${EXPECTED[kind]}` : ''}`;
    });
    throw new ForgeError('validation_error', lines.join('\n'), { fields });
  }
}

/**
 * `artifacts` checked by parseArtifacts, each refusal naming the file and line its artifact is
 * written on (`svc/.forge/project.cue:4: artifacts."Bad_Name": …`), else the project's folder.
 */
function artifactsConfig(src: ProjectSource, rel: string, input: unknown): ArtifactConfig[] {
  try {
    return parseArtifacts(input);
  } catch (err) {
    const fields = (err as ForgeError).details?.fields as FieldProblem[] | undefined;
    if (!(err instanceof ForgeError) || !fields) throw err;
    const lines = fields.map((f) => {
      const name = /^artifacts\."((?:[^"\\]|\\.)*)"/.exec(f.path)?.[1];
      const where = (name === undefined ? undefined : locate(src, name)) ?? `${rel === '.' ? '' : `${rel}/`}.forge`;
      return `${where}: ${f.path}: ${f.message}`;
    });
    throw new ForgeError('validation_error', lines.join('\n'), { fields });
  }
}

/** `file:line` (relative to the repository root) of the first line of the project's files that writes `pattern` as a string. */
function locate(src: ProjectSource, pattern: string): string | undefined {
  const forms = [JSON.stringify(pattern), `#"${pattern}"#`, pattern];
  for (const form of forms) {
    for (const [path, content] of src.files) {
      const i = content.split('\n').findIndex((l) => l.includes(form));
      if (i >= 0) return `${relPath(src.root, path)}:${i + 1}`;
    }
  }
  return undefined;
}

/**
 * Evaluates a project. `values` resolves each reference in a file (default: placeholders); every
 * reference is then checked against the outputs the project's artifacts offer (`outputs`,
 * default: their placeholder shape), so an unknown artifact or field fails with its location.
 */
export async function evaluateProject(
  engine: CueEngine,
  src: ProjectSource,
  values: (ref: ArtifactRef, file: string) => ArtifactValue = (r) => placeholderValue(r.artifact, r.path),
  outputs?: (artifacts: ArtifactConfig[]) => Record<string, ArtifactOutputs>,
): Promise<ProjectConfig> {
  // The package is checked against the schema's #Project (docs/configuration.md) as it is evaluated.
  const overlays: Record<string, string> = schemaOverlay(join(src.dir, '.forge'), 'project');
  for (const [path, content] of src.files) {
    const file = relPath(src.root, path);
    if (src.refs.some((r) => r.file === file)) overlays[path] = substituteArtifactRefs(content, file, (r) => values(r, file));
  }
  const rel = relPath(src.root, src.dir) || '.';
  const data = await exportPackage(engine, src.moduleRoot, src.dir, 'project', overlays, `${rel === '.' ? '' : `${rel}/`}.forge`);
  const problem = projectProblem(data.name);
  if (problem) throw new ForgeError('validation_error', `${rel}/.forge: name: ${problem}`, { field: 'name' });
  const name = data.name as string;
  const release = releaseConfig(src, rel, data.release);
  const paths = (data.release as { paths?: unknown } | undefined)?.paths ?? [];
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p !== ''))
    throw new ForgeError('validation_error', `${rel}/.forge: release.paths: expected a list of paths`, { field: 'release.paths' });
  const artifacts = artifactsConfig(src, rel, data.artifacts);
  const shape = outputs ? outputs(artifacts) : Object.fromEntries(artifacts.map((a) => [a.name, placeholderOutputs(a)]));
  for (const { file, ref } of src.refs) lookupArtifactRef(shape as Record<string, unknown>, ref, file);
  const misspelt = misspeltFields(data);
  if (misspelt) throw new ForgeError('validation_error', `${rel}/.forge: ${misspelt}`, { field: misspelt.split(':')[0] });
  const deployment = data.deployment as Record<string, unknown> | undefined;
  const resources = deployment?.resources ?? [];
  if (!Array.isArray(resources)) {
    throw new ForgeError('validation_error', `${rel}/.forge: deployment.resources must be a list of Kubernetes objects`);
  }
  return { name, ...(release ? { release } : {}), paths: paths as string[], artifacts, resources };
}
