/**
 * `forge diff PROJECT REF-A REF-B` (issue #16): the semantic diff of two releases by default
 * (objects added, removed and changed, with field paths and old and new values; key order and
 * formatting ignored; Secret values hidden; long values cut in the middle, saying so), or the
 * unified text diff with `--format unified`. `-o json|yaml` prints the semantic diff as data.
 */
import type { Command } from 'commander';
import type { SemanticDiff } from '../../contract/index.js';
import { formatSemanticDiff } from '../../core/semantic-diff.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, UsageError } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { releasePath } from './release.js';

type Opts = { server?: string; token?: string; repository?: string; format: string; output: string; width?: string };

export function registerDiff(program: Command) {
  clientOptions(
    program
      .command('diff')
      .description('diff two releases of a project: the semantic diff (default), or the unified text diff with --format unified'),
  )
    .argument('<project>')
    .argument('<ref-a>', 'the release to diff from (tag, number, sha prefix)')
    .argument('<ref-b>', 'the release to diff to')
    .option('--repository <owner/name>', 'repository (default: the origin remote of the current checkout)')
    .option('--format <format>', 'semantic or unified', 'semantic')
    .option('--width <n>', 'cut values longer than fit in this many columns in the middle (default: the terminal width, else 120)')
    .option('-o, --output <format>', 'table, json or yaml (json and yaml: the semantic diff as data)', 'table')
    .action(
      run(async (project: string, a: string, b: string, opts: Opts) => {
        const format = parseFormat(opts.output);
        if (opts.format !== 'semantic' && opts.format !== 'unified')
          throw new UsageError(`invalid --format "${opts.format}": expected semantic or unified`);
        const width = opts.width === undefined ? (process.stdout.columns ?? 120) : Number(opts.width);
        if (!Number.isInteger(width) || width < 40)
          throw new UsageError(`invalid --width "${opts.width}": expected a whole number of at least 40`);
        const path = `${releasePath(resolveRepository(opts.repository), project, a)}/diff/${encodeURIComponent(b)}`;
        if (opts.format === 'unified') {
          if (format !== 'table') throw new UsageError('-o json|yaml prints the semantic diff; drop --format unified');
          process.stdout.write(await client(opts).request<string>('GET', `${path}?format=unified`, undefined, 'text/plain'));
          return;
        }
        const diff = await client(opts).request<SemanticDiff>('GET', `${path}?format=semantic`);
        print(diff, format, () =>
          `release ${diff.from.release_number} → release ${diff.to.release_number}\n${formatSemanticDiff(diff, width)}`.trimEnd(),
        );
      }),
    );
}
