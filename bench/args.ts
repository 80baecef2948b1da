/**
 * The command line of a bench script: `parseArgs` as node:util's, plus `--help`/`-h`, which
 * prints the script's header comment (what it measures and its usage line) and exits 0; an
 * unknown or malformed option prints the message and the header on stderr and exits 2, not a
 * stack trace.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** The leading doc comment of the script at `scriptUrl` (its `import.meta.url`), as plain text. */
export function scriptUsage(scriptUrl: string): string {
  const text = readFileSync(fileURLToPath(scriptUrl), 'utf8');
  const header = /^\s*\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
  return `${header
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim()}\n`;
}

/** `parseArgs(config)` for the bench script at `scriptUrl`, answering `--help` with its usage. */
export function benchArgs<T extends ParseArgsConfig>(scriptUrl: string, config: T): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(scriptUsage(scriptUrl));
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${scriptUsage(scriptUrl)}`);
    process.exit(2);
  }
}
