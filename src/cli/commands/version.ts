/**
 * `forge version`: the versions that decide how a repository is read — Forge's own, the CUE
 * implementation its engine was built with (docs/cue.md) and Node's. `-o json` for scripts and
 * bug reports.
 */
import type { Command } from 'commander';
import { cueVersion } from '../../pipeline/cue-engine.js';
import { parseFormat, print, table } from '../output.js';
import { run } from '../run.js';

export function registerVersion(program: Command) {
  program
    .command('version')
    .description('print the versions of Forge, of the CUE implementation it evaluates configuration with, and of Node')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: { output: string }) => {
        const format = parseFormat(opts.output);
        // A missing or broken CUE engine is part of the answer, not a failure of the command.
        const cue = await cueVersion().catch(() => null);
        const versions = { forge: program.version() ?? 'unknown', cue, node: process.version };
        print(versions, format, () =>
          table(
            ['component', 'version'],
            [
              ['forge', versions.forge],
              ['cue', cue ?? 'not built (run `npm run build:cue`)'],
              ['node', versions.node],
            ],
          ),
        );
      }),
    );
}
