/** `forge cmp discover|generate`: the Argo CD plugin, also installed as the `forge-cmp` bin (src/cmp/main.ts). */
import type { Command } from 'commander';

export function registerCmp(program: Command) {
  const cmp = program.command('cmp').description('the Argo CD config-management plugin (run by Argo CD in a pointer folder)');
  for (const [name, description] of [
    ['discover', 'print release.yaml and exit 0 when this folder holds a valid ReleasePointer'],
    ['generate', "print the pointed-to release's manifests (and env.yaml) as a YAML stream"],
  ] as const) {
    cmp
      .command(name)
      .description(description)
      .action(async () => {
        const { runCmp } = await import('../../cmp/run.js');
        process.exitCode = await runCmp([name], process.cwd()); // the plugin reads its own settings (src/cmp/settings.ts)
      });
  }
}
