/**
 * The configuration schema (docs/configuration.md): `schema/forge.cue` beside this module,
 * the CUE definitions #Project and #Repo that every evaluation of `.forge/project.cue` and
 * `.forge/repo.cue` is unified with, so a misspelt field or a wrong type is a CUE error with
 * its file, line and column. The same file is what users import (`forge schema` prints it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let source: string | undefined;

/** The schema file as users import it (package forge). Read once. */
export function schemaSource(): string {
  source ??= readFileSync(new URL('./schema/forge.cue', import.meta.url), 'utf8');
  return source;
}

/** The name of the overlay file the check is added to a package as (never on disk). */
export const SCHEMA_OVERLAY = 'zz_forge_schema.cue';

/**
 * An overlay for the package in `forgeDir` (`project` or `repo`) that embeds the schema's
 * definition: the schema's definitions renamed (`#Project` → `#__forgeProject`, so they cannot
 * clash with the package's own), then the definition embedded at the package's top level.
 * Returns `{ absolutePath: content }` for CueEngine.export's overlays.
 */
export function schemaOverlay(forgeDir: string, pkg: 'project' | 'repo'): Record<string, string> {
  const body = schemaSource()
    .replace(/^package forge$/m, `package ${pkg}`)
    .replace(/#([A-Z]\w*)/g, '#__forge$1');
  return { [join(forgeDir, SCHEMA_OVERLAY)]: `${body}\n#__forge${pkg === 'project' ? 'Project' : 'Repo'}\n` };
}
