/**
 * A checkout seen as Forge sees it: the repository root, its tagging strategy, and the projects
 * below it, evaluated by the CUE engine.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TaggingStrategy } from '../core/aliases.js';
import { ForgeError } from '../core/errors.js';
import type { CueEngine } from './cue-engine.js';
import { type DiscoveredProject, discoverProjects, findRepoRoot } from './discovery.js';
import { loadTaggingStrategy } from './project.js';

export interface Workspace {
  root: string;
  strategy: TaggingStrategy;
  projects: DiscoveredProject[];
}

export async function openWorkspace(engine: CueEngine, start: string): Promise<Workspace> {
  const root = await findRepoRoot(start);
  const [strategy, projects] = await Promise.all([loadTaggingStrategy(engine, root), discoverProjects(root)]);
  return { root, strategy, projects };
}

/** The projects named by directory (all when none is named); a directory that is not a project is an error. */
export async function selectProjects(ws: Workspace, dirs: string[], cwd = process.cwd()): Promise<DiscoveredProject[]> {
  if (!dirs.length) return ws.projects;
  return Promise.all(
    dirs.map(async (d) => {
      const abs = resolve(cwd, d);
      const found = ws.projects.find((p) => p.dir === abs);
      if (found) return found;
      const has = await stat(join(abs, '.forge', 'project.cue')).then(
        () => true,
        () => false,
      );
      throw new ForgeError(
        'validation_error',
        has
          ? `${d} is a project outside the repository at ${ws.root}`
          : `${d} is not a project directory: expected ${join(d, '.forge', 'project.cue')}`,
      );
    }),
  );
}
