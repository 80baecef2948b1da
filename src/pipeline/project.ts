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
import { checkArtifactPaths } from './artifact-paths.js';
import { SCHEMA_OVERLAY, schemaOverlay } from './config-schema.js';
import type { CueEngine } from './cue-engine.js';
import { findModuleRoot } from './discovery.js';
import { misspeltField } from './field-names.js';

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

/**
 * The package clause of a CUE file: its name and 1-based line, after blank lines, comments and
 * file attributes (`@extern(embed)`); undefined when the first declaration is something else.
 */
export function packageClause(content: string): { name: string; line: number } | undefined {
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\/\/.*$/, '').trim();
    if (line === '' || line.startsWith('@')) continue;
    const m = /^package\s+([A-Za-z_#$][\w$]*)\s*$/.exec(line);
    return m ? { name: m[1], line: i + 1 } : undefined;
  }
  return undefined;
}

/**
 * Refuses a file of `.forge/` that is not in package `pkg`: CUE would leave it out of the
 * package without a word (a repo.cue in `package repository` is ignored whole; a project.cue in
 * `package foo` fails with only "name: incomplete value"). `file` is relative to the repository root.
 */
function assertPackage(file: string, content: string, pkg: 'project' | 'repo'): void {
  const clause = packageClause(content);
  if (!clause) {
    throw new ForgeError(
      'validation_error',
      `${file}:1: no package clause: the file needs \`package ${pkg}\` as its first declaration (Forge evaluates .forge/ as package ${pkg}; docs/configuration.md)`,
      { field: 'package' },
    );
  }
  if (clause.name !== pkg) {
    throw new ForgeError(
      'validation_error',
      `${file}:${clause.line}: package must be "${pkg}", got "${clause.name}": write \`package ${pkg}\` (Forge evaluates .forge/ as package ${pkg}; docs/configuration.md)`,
      { field: 'package' },
    );
  }
}

/** The 1-based line of `content` where a field labelled `key` is written (`key:` or `"key":`), else undefined. */
function labelLine(content: string, key: string): number | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[\\s{,])("${escaped}"|${escaped})[?!]?\\s*:`);
  const i = content.split('\n').findIndex((l) => re.test(l.replace(/\/\/.*$/, '')));
  return i < 0 ? undefined : i + 1;
}

/**
 * A top-level field that is a near miss of one of `fields` the file does not set (`taging`,
 * `deploymnet`): a validation_error naming the file and line it is written on (the first of
 * `files`, absolute path → content, that writes it) and the field meant. Other unknown fields
 * are the file's own helpers and pass.
 */
function assertNoMisspeltField(
  data: Record<string, unknown>,
  fields: readonly string[],
  what: string,
  files: Map<string, string>,
  root: string,
  fallback: string,
): void {
  const miss = misspeltField(data, fields);
  if (!miss) return;
  let at = fallback;
  for (const [path, content] of files) {
    const line = labelLine(content, miss.key);
    if (line !== undefined) {
      at = `${relPath(root, path)}:${line}`;
      break;
    }
  }
  throw new ForgeError(
    'validation_error',
    `${at}: ${miss.key}: not a ${what} field; did you mean "${miss.meant}"? (the fields are ${fields.join(', ')}; docs/configuration.md)`,
    { field: miss.key },
  );
}

/** The fields of `.forge/repo.cue` (docs/configuration.md). */
const REPO_FIELDS = ['tagging'];

/**
 * `.forge/repo.cue` at the root: the tagging strategy (default `monorepo`). The file must be in
 * package `repo`; a top-level field that is a near miss of `tagging` is an error.
 */
export async function loadTaggingStrategy(engine: CueEngine, root: string): Promise<TaggingStrategy> {
  const path = join(root, '.forge', 'repo.cue');
  const content = await readFile(path, 'utf8').catch(() => undefined);
  if (content === undefined) return 'monorepo';
  assertPackage('.forge/repo.cue', content, 'repo');
  const moduleRoot = await findModuleRoot(root, root);
  const repo = await exportPackage(engine, moduleRoot, root, 'repo', schemaOverlay(join(root, '.forge'), 'repo'), '.forge/repo.cue');
  assertNoMisspeltField(repo, REPO_FIELDS, 'repo.cue', new Map([[path, content]]), root, '.forge/repo.cue');
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
  for (const [path, content] of src.files) {
    // The root's .forge holds the repo package too (repo.cue and any file of package repo beside it).
    if (src.dir === src.root && packageClause(content)?.name === 'repo') continue;
    assertPackage(relPath(src.root, path), content, 'project');
  }
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
  const forgeDir = `${rel === '.' ? '' : `${rel}/`}.forge`;
  assertNoMisspeltField(data, PROJECT_FIELDS, 'project', src.files, src.root, forgeDir);
  await checkArtifactPaths(src.root, src.dir, paths as string[], artifacts, (value) => locate(src, value) ?? forgeDir);
  const deployment = data.deployment as Record<string, unknown> | undefined;
  const resources = deployment?.resources ?? [];
  if (!Array.isArray(resources)) {
    throw new ForgeError('validation_error', `${rel}/.forge: deployment.resources must be a list of Kubernetes objects`);
  }
  return { name, ...(release ? { release } : {}), paths: paths as string[], artifacts, resources };
}
