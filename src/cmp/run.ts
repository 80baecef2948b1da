/** Runs one plugin command as Argo CD's cmp-server does: stdout carries only the command's output, logs and errors go to stderr, any error exits non-zero. */
import type { Env } from '../config/environment.js';
import { discover } from './discover.js';
import { generate } from './generate.js';
import { loadCmpSettings } from './settings.js';

export const CMP_USAGE = "usage: forge-cmp discover|generate  (run by Argo CD in the Application's source directory)";

/** What `forge-cmp --help` prints (stdout, exit 0). */
const CMP_HELP = `${CMP_USAGE}

  discover   prints release.yaml when the folder holds a valid ReleasePointer (Argo CD's discovery)
  generate   prints the release's Kubernetes objects as one YAML stream, then env.yaml when present

Settings are environment variables (FORGE_REGISTRY, FORGE_SIGNING_PUBLIC_KEY_FILE,
FORGE_CMP_CACHE_DIR, FORGE_CMP_DESTINATION_NAMESPACE_ONLY, FORGE_CMP_MAX_*…): see
deploy/README.md and docs/configuration.md. Output goes to stdout, logs and errors to stderr.`;

/** Returns the exit code: 0 done, 1 failed, 2 usage error. `env` replaces the process's environment (tests). */
export async function runCmp(args: string[], dir: string, env?: Env): Promise<number> {
  const [command, ...rest] = args;
  if (args.some((a) => a === '--help' || a === '-h') || (command === 'help' && !rest.length)) {
    process.stdout.write(`${CMP_HELP}\n`);
    return 0;
  }
  if (rest.length || (command !== 'discover' && command !== 'generate')) {
    process.stderr.write(`${CMP_USAGE}\n`);
    return 2;
  }
  const out = (text: string) => process.stdout.write(text);
  const log = (line: string) => process.stderr.write(`forge-cmp: ${line}\n`);
  let debug = false;
  try {
    if (command === 'discover') await discover(dir, out);
    else {
      const settings = loadCmpSettings(env);
      debug = settings.debug;
      await generate(dir, settings, { out, log });
    }
    return 0;
  } catch (err) {
    log(`${command} failed: ${(err as Error).message}`);
    if (debug && !(err as { code?: string }).code) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}
