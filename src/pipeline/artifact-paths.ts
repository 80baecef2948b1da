/**
 * The paths a project's configuration names on disk (docs/configuration.md): `release.paths`,
 * each artifact's `inputs` and an `archive` producer's `path`. Checked by evaluateProject, so
 * `forge validate`, `forge render` and `forge release create` (before it builds anything) refuse
 * the same configurations with the same function; the archive producer checks its folder again
 * when it packs it (artifact-producers.ts), with archiveDirectory.
 */
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { FieldProblem } from '../core/errors.js';
import { ForgeError } from '../core/errors.js';
import type { ArtifactConfig } from './artifact-config.js';
import { resolveInputPaths } from './changes.js';
import { gitMaybe } from './git.js';

/** True when `path` is `dir` or below it (both absolute). */
function within(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/**
 * The folder an `archive` producer packs: `path` resolved against the project directory. Refused
 * (validation_error, `artifact "<name>": archive path … …`) when it is outside the repository
 * `root` (as written, or through a symbolic link), or exists and is not a directory (a file, or
 * a symbolic link, which the archive would not follow), or does not exist: when packing
 * (`mustExist`) always; when checking a configuration only if git does not ignore it, since an
 * ignored folder is a build output still to come (`dist/` in .gitignore) and anything else is a
 * typo that `forge release create` would refuse. `root` undefined: the repository is not known
 * (the builder), only the folder is checked.
 */
export async function archiveDirectory(
  artifact: string,
  projectDir: string,
  path: string,
  o: { root?: string; mustExist: boolean },
): Promise<string> {
  const dir = resolve(projectDir, path);
  const refuse = (why: string) => new ForgeError('validation_error', `artifact "${artifact}": archive path ${path} ${why}`);
  if (o.root !== undefined && !within(o.root, dir))
    throw refuse(`is outside the repository: it must name a folder inside ${o.root} (relative to the project directory)`);
  const st = await lstat(dir).catch(() => undefined);
  if (!st) {
    if (o.mustExist || o.root === undefined) throw refuse('is not a directory: it does not exist');
    const rel = relative(o.root, dir).split(sep).join('/');
    // `git check-ignore` answers 0 for an ignored path; a trailing / asks about a folder.
    if ((await gitMaybe(o.root, ['check-ignore', '-q', `${rel}/`])) === undefined)
      throw refuse(
        'does not exist: name a folder of the repository, or list it in .gitignore if a build makes it before `forge release create`',
      );
    return dir;
  }
  if (!st.isDirectory()) throw refuse(`is not a directory${st.isSymbolicLink() ? ' (it is a symbolic link)' : ''}`);
  if (o.root !== undefined) {
    const [realRoot, realDir] = await Promise.all([realpath(o.root), realpath(dir)]);
    if (!within(realRoot, realDir)) throw refuse('is outside the repository through a symbolic link on the way to it');
  }
  return dir;
}

/**
 * Checks `release.paths`, every artifact's `inputs` (resolveInputPaths, as change detection
 * reads them) and every archive producer's folder (archiveDirectory). Throws one
 * validation_error listing every refusal, each placed by `where(value)` (the file and line the
 * value is written on) and naming its field; `details.fields` holds them.
 */
export async function checkArtifactPaths(
  root: string,
  projectDir: string,
  releasePaths: string[],
  artifacts: ArtifactConfig[],
  where: (value: string) => string,
): Promise<void> {
  const relDir = relative(root, projectDir).split(sep).join('/') || '.';
  const problems: (FieldProblem & { at: string })[] = [];
  const inputs = (paths: string[], field: string) => {
    paths.forEach((p, i) => {
      try {
        resolveInputPaths([p], relDir, field);
      } catch (err) {
        if (!(err instanceof ForgeError)) throw err;
        const message = `"${p}" is outside the repository: paths are relative to the project directory (${relDir}), "/…" from the repository root`;
        problems.push({ path: `${field}[${i}]`, message, at: where(p) });
      }
    });
  };
  inputs(releasePaths, 'release.paths');
  for (const a of artifacts) {
    inputs(a.inputs ?? [], `artifacts."${a.name}".inputs`);
    if (a.producer?.kind !== 'archive') continue;
    const path = a.producer.path;
    try {
      await archiveDirectory(a.name, projectDir, path, { root, mustExist: false });
    } catch (err) {
      if (!(err instanceof ForgeError)) throw err;
      problems.push({ path: `artifacts."${a.name}".producer.archive.path`, message: err.message, at: where(path) });
    }
  }
  if (problems.length) {
    throw new ForgeError('validation_error', problems.map((p) => `${p.at}: ${p.path}: ${p.message}`).join('\n'), {
      fields: problems.map(({ path, message }) => ({ path, message })),
    });
  }
}
