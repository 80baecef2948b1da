/** How client commands print data: a table for people, JSON or YAML for scripts (`-o`). */
import { toYaml } from '../core/yaml-out.js';

export type Format = 'table' | 'json' | 'yaml';

export function parseFormat(value: string): Format {
  if (value === 'table' || value === 'json' || value === 'yaml') return value;
  throw new UsageError(`invalid output format "${value}": expected table, json or yaml`);
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function print(data: unknown, format: Format, asTable: () => string): void {
  if (format === 'json') process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  // toYaml loads the yaml package only when asked for (50 ms of every command's start otherwise).
  else if (format === 'yaml') process.stdout.write(toYaml(data));
  else process.stdout.write(`${asTable()}\n`);
}
