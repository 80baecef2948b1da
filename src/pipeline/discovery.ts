/**
 * Project discovery (DESIGN.md §4): the repository root holds `.forge/repo.cue`; every directory
 * with a `.forge/project.cue` below it is a project. A `.forge` inside a project's tree is an
 * error naming both paths (which one would own the files below it is ambiguous).
 */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { gitMaybe } from './git.js';

export interface DiscoveredProject {
  /** Absolute directory of the project (the parent of its `.forge`). */
  dir: string;
  /** Relative to the repository root, `.` for the root itself, always with `/`. */
  relDir: string;
}

const SKIP = new Set(['.git', 'node_modules', 'cue.mod', '.forge-data']);

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The repository root for `start`: the nearest ancestor with `.forge/repo.cue`, else the git
 * top level, else `start` itself.
 */
export async function findRepoRoot(start: string): Promise<string> {
  const abs = resolve(start);
  for (let d = abs; ; d = dirname(d)) {
    if (await exists(join(d, '.forge', 'repo.cue'))) return d;
    if (dirname(d) === d) break;
  }
  const top = await gitMaybe(abs, ['rev-parse', '--show-toplevel']);
  return top ? top.trim() : abs;
}

/**
 * The repository root for `start`, refusing a directory that is in no repository: the nearest
 * ancestor with `.forge/repo.cue`, else the git top level; neither → validation_error naming
 * `command` and what to do. Walking a folder that is not a repository (a temp or home folder)
 * is never useful and can take minutes, so `forge validate` and `forge release create` call this
 * before anything else.
 */
export async function requireRepository(start: string, command: string): Promise<string> {
  const abs = resolve(start);
  if (!(await exists(abs))) throw new ForgeError('validation_error', `${start}: no such directory`);
  for (let d = abs; ; d = dirname(d)) {
    if (await exists(join(d, '.forge', 'repo.cue'))) return d;
    if (dirname(d) === d) break;
  }
  const top = await gitMaybe(abs, ['rev-parse', '--show-toplevel']);
  if (top) return top.trim();
  throw new ForgeError(
    'validation_error',
    `${abs} is not inside a repository (no git checkout, no .forge/repo.cue above it); ${command} runs in a repository's checkout: cd into one, or name a directory inside it`,
  );
}

/** The directory holding `cue.mod/module.cue` at or above `dir` (not above `root`), else `root`. */
export async function findModuleRoot(dir: string, root: string): Promise<string> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (await exists(join(d, 'cue.mod', 'module.cue'))) return d;
    if (d === resolve(root) || dirname(d) === d) return resolve(root);
  }
}

function rel(root: string, dir: string): string {
  return relative(root, dir).split(sep).join('/') || '.';
}

/** Every `.forge` directory below `root` (the root's own included). */
async function forgeDirs(root: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    await Promise.all(
      entries.map(async (e) => {
        if (!e.isDirectory() || SKIP.has(e.name)) return;
        const path = join(dir, e.name);
        if (e.name === '.forge') found.push(path);
        else await walk(path);
      }),
    );
  }
  await walk(root);
  // Shallower first, so a project is known before anything nested in it.
  return found.sort((a, b) => a.split(sep).length - b.split(sep).length || (a < b ? -1 : 1));
}

export async function discoverProjects(root: string): Promise<DiscoveredProject[]> {
  const projects: DiscoveredProject[] = [];
  for (const forge of await forgeDirs(root)) {
    const dir = dirname(forge);
    const owner = projects.find((p) => dir.startsWith(p.dir.endsWith(sep) ? p.dir : p.dir + sep));
    if (owner) {
      throw new ForgeError(
        'validation_error',
        `nested project configuration: ${rel(root, forge)} is inside project ${rel(root, join(owner.dir, '.forge'))}; a project's tree may hold only one .forge directory`,
        { paths: [rel(root, join(owner.dir, '.forge')), rel(root, forge)] },
      );
    }
    if (await exists(join(forge, 'project.cue'))) projects.push({ dir, relDir: rel(root, dir) });
  }
  return projects;
}

/** Checks that no two projects share a name; throws naming both directories. */
export function assertUniqueNames(projects: { name: string; relDir: string }[]): void {
  const byName = new Map<string, string>();
  for (const p of projects) {
    const other = byName.get(p.name);
    if (other !== undefined) {
      throw new ForgeError(
        'validation_error',
        `two projects are named "${p.name}": ${other}/.forge/project.cue and ${p.relDir}/.forge/project.cue; project names must be unique in a repository`,
        { name: p.name, paths: [`${other}/.forge/project.cue`, `${p.relDir}/.forge/project.cue`] },
      );
    }
    byName.set(p.name, p.relDir);
  }
}
