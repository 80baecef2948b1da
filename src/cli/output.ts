/** How client commands print data: a table for people, JSON or YAML for scripts (`-o`). */
import { toYaml } from '../core/yaml-out.js';

export type Format = 'table' | 'json' | 'yaml';

export function parseFormat(value: string): Format {
  if (value === 'table' || value === 'json' || value === 'yaml') return value;
  throw new UsageError(`invalid output format "${value}": expected table, json or yaml`);
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {}

/**
 * A value as one line of terminal text: control characters (newlines, carriage returns, escape
 * sequences) are shown escaped, so a reason or justification cannot forge table rows or rewrite
 * what the reader sees.
 */
export function terminalText(value: string): string {
  return value.replace(/[\x00-\x1f\x7f-\x9f]/g, escapeControl);
}

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One control character as the escape a reader recognises: `\n`, `\r`, `\t`, else `\u001b` and the like. */
function escapeControl(c: string): string {
  return NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : terminalText(String(c)))))];
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
  // Text for people: no escape sequence or carriage return reaches the terminal, whatever a field held.
  else process.stdout.write(`${asTable().replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, escapeControl)}\n`);
}
