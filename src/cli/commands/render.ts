import type { Command } from 'commander';
import { CueEngine } from '../../pipeline/cue-engine.js';
import { readProjectSource } from '../../pipeline/project.js';
import { parseArtifactAssignments, renderWithPlaceholders, yamlStream } from '../../pipeline/render.js';
import { openWorkspace, selectProjects } from '../../pipeline/workspace.js';
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
