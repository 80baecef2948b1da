/**
 * `forge validate [DIR]`: checks every project of the repository DIR is in (CUE, triggers,
 * artifacts, @artifact references, manifests) without building anything. Refuses a directory
 * that is in no repository (it would walk all of it). The pipeline and the CUE engine are loaded
 * when the command runs.
 */
import type { Command } from 'commander';
import { run } from '../run.js';
import { cliSettings } from '../settings.js';

export function registerValidate(program: Command) {
  program
    .command('validate')
    .description(
      "check every project's configuration (CUE, triggers, artifacts, @artifact references, manifests) without building anything",
    )
    .argument('[dir]', 'a directory inside the repository', '.')
    .action(
      run(async (dir: string) => {
        const { assertUniqueNames, requireRepository } = await import('../../pipeline/discovery.js');
        await requireRepository(dir, 'forge validate');
        const [{ CueEngine }, { readProjectSource }, { renderWithPlaceholders }, { openWorkspace }] = await Promise.all([
          import('../../pipeline/cue-engine.js'),
          import('../../pipeline/project.js'),
          import('../../pipeline/render.js'),
          import('../../pipeline/workspace.js'),
        ]);
        const engine = new CueEngine(undefined, { registry: cliSettings().cue });
        try {
          const ws = await openWorkspace(engine, dir);
          const named: { name: string; relDir: string }[] = [];
          const failed: string[] = [];
          for (const p of ws.projects) {
            try {
              const cfg = await renderWithPlaceholders(engine, await readProjectSource(p.dir, ws.root), p.relDir);
              named.push({ name: cfg.name, relDir: p.relDir });
              process.stdout.write(
                `ok      ${p.relDir} (${cfg.name}: ${cfg.resources.length} resources, ${cfg.artifacts.length} artifacts)\n`,
              );
            } catch (err) {
              failed.push(p.relDir);
              process.stdout.write(`invalid ${p.relDir}\n`);
              process.stderr.write(`${p.relDir}: ${(err as Error).message}\n`);
            }
          }
          assertUniqueNames(named);
          if (!ws.projects.length)
            process.stdout.write(`no projects below ${ws.root} (a project is a directory with .forge/project.cue)\n`);
          if (failed.length) throw new Error(`${failed.length} of ${ws.projects.length} projects are invalid: ${failed.join(', ')}`);
        } finally {
          await engine.close();
        }
      }),
    );
}
