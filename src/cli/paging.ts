/**
 * The paging options of every CLI command that lists one page (DESIGN.md §10, issue #18):
 * `--limit`, and where the page starts — `--offset` (jump to a position) or `--cursor` (the
 * `next` of a previous page: continue a walk), never both, as the API refuses both. In table
 * output a page with more after it ends with a hint on stderr, `more: --cursor <next>`, so that
 * stdout stays the table; `-o json|yaml` carry `next` in the page itself.
 */
import type { Command } from 'commander';
import { type Format, UsageError } from './output.js';

/** What the paging options leave in a command's options (strings, as typed). */
export interface PageOpts {
  limit: string;
  offset?: string;
  cursor?: string;
}

/** Adds `--limit <n>` (1-200, default 20), `--offset <n>` and `--cursor <next>` to a list command. */
export function pageOptions(cmd: Command): Command {
  return cmd
    .option('--limit <n>', 'how many (1-200)', '20')
    .option('--offset <n>', 'skip this many (default 0; not with --cursor)')
    .option('--cursor <next>', 'continue after a previous page: its `next` (printed as `more: --cursor …`); not with --offset');
}

/**
 * The query parameters of the page asked for: `limit`, then `cursor` or `offset`. Throws a
 * UsageError (exit 2) for `--cursor` with `--offset`: the cursor continues a walk, the offset
 * jumps, a page is one or the other.
 */
export function pageQuery(opts: PageOpts): URLSearchParams {
  if (opts.cursor !== undefined && opts.offset !== undefined)
    throw new UsageError(
      'give either --cursor or --offset, not both (--cursor continues a walk from a `next`; --offset jumps to a position)',
    );
  const q = new URLSearchParams({ limit: String(Number(opts.limit)) });
  if (opts.cursor !== undefined) q.set('cursor', opts.cursor);
  else q.set('offset', String(Number(opts.offset ?? 0)));
  return q;
}

/** After a page printed as a table: when a page follows, the option that reads it, on stderr. */
export function hintNextPage(page: { next?: string | null }, format: Format): void {
  if (format === 'table' && page.next) process.stderr.write(`more: --cursor ${page.next}\n`);
}
