/**
 * `forge schema`: prints the CUE definitions Forge checks `.forge/project.cue` (#Project) and
 * `.forge/repo.cue` (#Repo) against (docs/configuration.md), to import in a repository:
 *   forge schema > cue.mod/pkg/forge.dev/schema/forge.cue
 */
import type { Command } from 'commander';
import { run } from '../run.js';

export function registerSchema(program: Command) {
  program
    .command('schema')
    .description('print the CUE schema of .forge/project.cue and .forge/repo.cue (package forge: #Project, #Repo)')
    .action(
      run(async () => {
        const { schemaSource } = await import('../../pipeline/config-schema.js');
        process.stdout.write(schemaSource());
      }),
    );
}
