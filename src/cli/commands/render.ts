/**
 * `forge render [PROJECT_DIR] [--artifact name.field=value]`: a project's Kubernetes manifests as a
 * YAML stream, with placeholder or given artifact values, built nothing. The pipeline and the CUE
 * engine are loaded when the command runs, so other commands start without them.
 */
import type { Command } from 'commander';
import { run } from '../run.js';
import { cliSettings } from '../settings.js';

export function registerRender(program: Command) {
  program
    .command('render')
    .description("print a project's Kubernetes manifests as a YAML stream, with placeholder or given artifact values")
    .argument('[project-dir]', 'the project directory (holding .forge/project.cue)', '.')
    .option(
      '--artifact <name.field=value>',
      'value of an @artifact reference (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action(
      run(async (dir: string, opts: { artifact: string[] }) => {
        const [
          { CueEngine },
          { readProjectSource },
          { parseArtifactAssignments, renderWithPlaceholders, yamlStream },
          { openWorkspace, selectProjects },
        ] = await Promise.all([
          import('../../pipeline/cue-engine.js'),
          import('../../pipeline/project.js'),
          import('../../pipeline/render.js'),
          import('../../pipeline/workspace.js'),
        ]);
        const given = parseArtifactAssignments(opts.artifact);
        const engine = new CueEngine(undefined, { registry: cliSettings().cue });
        try {
          const ws = await openWorkspace(engine, dir);
          const [project] = await selectProjects(ws, [dir]);
          const cfg = await renderWithPlaceholders(engine, await readProjectSource(project.dir, ws.root), project.relDir, given);
          process.stdout.write(yamlStream(cfg.resources));
        } finally {
          await engine.close();
        }
      }),
    );
}
