/**
 * The CUE engine (DESIGN.md §4, docs/cue.md): the official CUE implementation (cuelang.org/go),
 * built from source by `npm run build:cue` into `cue-helper/bin/forge-cue`, run as one long-lived
 * helper process per engine that answers JSON lines on stdin/stdout. A native process rather than
 * WebAssembly because it starts in milliseconds and can fetch CUE modules from registries (Go's
 * WebAssembly port has no network under Node); docs/cue.md has the measurements.
 *
 * Calls are serialised, each with a time limit: a call over the limit kills the helper (the next
 * call starts a fresh one) and fails with a clear error; so does a helper that dies or goes over
 * its memory limit (the helper's own watchdog, GOMEMLIMIT at 3/4 of it).
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '../core/errors.js';
import { nearField } from './field-names.js';

export const DEFAULT_CUE_TIMEOUT_MS = 60_000;
export const DEFAULT_CUE_MEMORY_LIMIT_MIB = 1024;

/** Where CUE module dependencies come from (docs/cue.md "Modules"). */
export interface CueRegistrySettings {
  /** CUE_REGISTRY semantics (`cue help registryconfig`); unset: CUE's default registry. */
  cueRegistry?: string;
  /** CUE_CACHE_DIR semantics; unset: CUE's default (the user cache directory). */
  cacheDir?: string;
  /** Basic credentials offered to one registry host (`host[:port]`), e.g. Forge's own registry. */
  host?: string;
  username?: string;
  password?: string;
}

export interface CueEngineOptions {
  registry?: CueRegistrySettings;
  /** The helper is stopped above this resident memory; default 1024 MiB. */
  memoryLimitMiB?: number;
  /** Receives each distinct warning once (a legacy cue.mod/module.cue); default: stderr. */
  warn?: (message: string) => void;
}

/**
 * The engine's registry settings from the CLI's (docs/cue.md "Modules"): modules resolve exactly
 * as the `cue` command resolves them — `cueRegistry` (CUE_REGISTRY) when set, else CUE's default —
 * so a repository renders the same in Forge and with `cue export`. Forge's registry
 * (FORGE_REGISTRY `host[:port][/prefix]`, not an `oci-layout:` path) gets Forge's registry
 * credentials, so `CUE_REGISTRY=registry.acme.internal/cue` needs no separate `cue login`.
 */
export function cueRegistrySettings(
  forge: { registry?: string; username?: string; password?: string },
  cue: { registry?: string; cacheDir?: string },
): CueRegistrySettings {
  const host = forge.registry && !forge.registry.startsWith('oci-layout:') ? forge.registry.split('/')[0] : undefined;
  return {
    ...(cue.registry ? { cueRegistry: cue.registry } : {}),
    ...(cue.cacheDir ? { cacheDir: cue.cacheDir } : {}),
    ...(host && forge.username ? { host, username: forge.username, password: forge.password ?? '' } : {}),
  };
}

/** One CUE error as the helper reports it: file relative to the module root, 1-based line and column. */
export interface CueProblem {
  message: string;
  path?: string;
  file?: string;
  line?: number;
  column?: number;
  also?: string[];
  /** A field the schema refuses (`"<not a field of …>"`): its name as written. */
  label?: string;
}

interface HelperResponse {
  id: number;
  ok: boolean;
  value?: unknown;
  problems?: CueProblem[];
  warnings?: string[];
  fatal?: string;
  version?: string;
}

interface Pending {
  id: number;
  child: ChildProcessWithoutNullStreams;
  resolve: (r: HelperResponse) => void;
  reject: (e: Error) => void;
}

/**
 * The helper binary: `cue-helper/bin/forge-cue` at the package root, found from this module in
 * both layouts (src/pipeline under tsx, dist/src/pipeline compiled).
 */
export function cueHelperPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'cue-helper', 'bin', 'forge-cue');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new ForgeError(
    'internal_error',
    'the CUE engine is not built: cue-helper/bin/forge-cue is missing; run `npm run build:cue` (needs Go >= 1.25, see README)',
  );
}

/** The CUE version the helper was built with (`v0.17.1`), as `forge version` prints it. */
export function cueVersion(): Promise<string> {
  const bin = cueHelperPath();
  return new Promise((resolve, reject) => {
    execFile(bin, ['version'], { timeout: 10_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
  });
}

/** `file:line:column: path: message` (then `also at …` lines), the form every CUE failure takes. */
export function formatProblem(p: CueProblem): string {
  const at = p.file ? `${p.file}:${p.line ?? 0}:${p.column ?? 0}: ` : '(no position): ';
  const path = p.path ? `${p.path}: ` : '';
  return [`${at}${path}${p.message || 'the CUE evaluator gave no message'}`, ...(p.also ?? []).map((a) => `    also at ${a}`)].join('\n');
}

/** What the schema expects at a path whose value matched none of its forms (docs/configuration.md). */
const SCHEMA_FORMS: [RegExp, string][] = [
  [/^release\.on\.\d+$/, 'expected exactly one of {branch: "<regex>"}, {glob: "<glob>"} or {tag: true} (forge.#Trigger)'],
  [
    /^artifacts\.[^.]+\.producer$/,
    'expected exactly one of command: {run, output}, archive: {path} or "oci-layout": {path} (forge.#Producer)',
  ],
  [
    /^artifacts\.[^.]+\.publishers\.[^.]+$/,
    'expected exactly one of oci: {repository, tag?} or external: {uri, digest?} (forge.#Publisher)',
  ],
  [/^artifacts\.[^.]+\.type$/, 'expected "container", "binary" or "archive"'],
  [/^tagging\.strategy$/, 'expected "monorepo" or "tag-all"'],
];

/** How `@embed` paths resolve (docs/cue.md "Embedded files"), added to an error refusing one. */
export const EMBED_RULE =
  '@embed paths are relative to the directory of the .cue file holding the attribute (a project\'s .forge/) and must stay below it: no "..", no absolute path, no file of another CUE module, no symbolic link leading out of the CUE module; see docs/cue.md "Embedded files"';

/** The schema's refusal of a field it does not have (src/pipeline/schema/forge.cue): what the field is in, and the fields it has. */
const NOT_A_FIELD = /"<not a field of ([^:>]+): expected ([^>]+)>"/;

/**
 * A field the schema refuses, as users read it: `` `brnach` is not a field of a trigger; expected
 * branch, glob or tag; did you mean `branch`? `` at the path of the field (an error inside a choice
 * of forms has only the enclosing path; the helper gives the field's label). Else undefined.
 */
function notAField(p: CueProblem): CueProblem | undefined {
  const m = NOT_A_FIELD.exec(p.message);
  if (!m) return undefined;
  const [, what, expected] = m;
  const parts = p.path ? p.path.split('.') : [];
  const label = p.label ?? parts[parts.length - 1] ?? '';
  const path = parts[parts.length - 1] === label ? p.path : [...parts, label].join('.');
  const meant = nearField(label, expected.split(/, | or /));
  return {
    ...p,
    path,
    message: `\`${label}\` is not a field of ${what}; expected ${expected}${meant ? `; did you mean \`${meant}\`?` : ''} (docs/configuration.md)`,
  };
}

/**
 * A problem of a package checked against Forge's schema as users read it: the schema's renamed
 * definitions (`#__forgeTrigger`) are `forge.#Trigger` again, a field the schema does not have is
 * named with the fields it has, and a value that matched none of a schema's forms says which
 * forms there are.
 */
function userFacing(p: CueProblem): CueProblem {
  const refused = notAField(p);
  if (refused) return refused;
  let message = p.message.replace(/#__forge(\w+)/g, 'forge.#$1');
  const forms = SCHEMA_FORMS.find(([re]) => re.test(p.path ?? ''))?.[1];
  if (forms && /errors in empty disjunction/.test(message)) message = `${message.replace(/:$/, '')}: ${forms}`;
  // None of the forms given (`producer: {}`): the forms, not the schema's internals.
  else if (forms && /^incomplete value \{.*\} \| \{/.test(message)) message = `none of the forms is given: ${forms}`;
  if (
    /cannot refer to parent directory|only relative files are allowed|path not normalized|in different module|outside the CUE module/.test(
      message,
    )
  )
    message = `${message} (${EMBED_RULE})`;
  return { ...p, message };
}

export class CueEngine {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private stderrTail = '';
  private readonly warned = new Set<string>();
  private readonly warn: (message: string) => void;
  private readonly memoryLimitMiB: number;

  constructor(
    private readonly timeoutMs = DEFAULT_CUE_TIMEOUT_MS,
    private readonly options: CueEngineOptions = {},
  ) {
    this.memoryLimitMiB = options.memoryLimitMiB ?? DEFAULT_CUE_MEMORY_LIMIT_MIB;
    this.warn = options.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`));
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(cueHelperPath(), ['serve', '--memory-limit-mib', String(this.memoryLimitMiB)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderrTail = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      let res: HelperResponse;
      try {
        res = JSON.parse(line) as HelperResponse;
      } catch {
        return;
      }
      const p = this.pending;
      if (p && p.child === child && (res.id === p.id || res.fatal)) {
        this.pending = undefined;
        p.resolve(res);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    // A helper that dies (crash, memory watchdog, kill) is replaced on the next call.
    const gone = (why: string) => {
      if (this.child === child) this.child = undefined;
      const p = this.pending;
      if (p?.child !== child) return;
      this.pending = undefined;
      p.reject(new Error(`${why}${this.stderrTail.trim() ? `: ${this.stderrTail.trim()}` : ''}`));
    };
    child.on('error', (err) => gone(err.message));
    child.on('exit', (code, signal) => gone(`the helper exited (${signal ?? `code ${code}`})`));
    child.stdin.on('error', () => undefined); // a write to a helper that just died: reported by 'exit'
    this.child = child;
    this.idle(child);
    return child;
  }

  /** Between calls the helper keeps neither the event loop nor the process alive. */
  private idle(child: ChildProcessWithoutNullStreams): void {
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
  }

  private busy(child: ChildProcessWithoutNullStreams): void {
    child.ref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { ref?: () => void }[]) s.ref?.();
  }

  private request(body: Record<string, unknown>, what: string): Promise<HelperResponse> {
    const call = this.queue.then(() => this.call(body, what));
    this.queue = call.catch(() => undefined);
    return call;
  }

  private call(body: Record<string, unknown>, what: string): Promise<HelperResponse> {
    return new Promise<HelperResponse>((resolve, reject) => {
      let child: ChildProcessWithoutNullStreams;
      try {
        child = this.start();
      } catch (err) {
        reject(err);
        return;
      }
      const id = this.nextId++;
      const finish = () => {
        clearTimeout(timer);
        if (this.child === child) this.idle(child);
      };
      const timer = setTimeout(() => {
        this.pending = undefined;
        finish();
        this.stop(child);
        reject(
          new ForgeError(
            'validation_error',
            `CUE evaluation of ${what} did not finish within ${this.timeoutMs} ms and was stopped; look for a runaway comprehension or recursion`,
            { timeout_ms: this.timeoutMs },
          ),
        );
      }, this.timeoutMs);
      this.pending = {
        id,
        child,
        resolve: (res) => {
          finish();
          if (res.fatal === 'memory') {
            this.stop(child);
            reject(
              new ForgeError(
                'validation_error',
                `CUE evaluation of ${what} used more than ${this.memoryLimitMiB} MiB and was stopped; look for a runaway comprehension or recursion`,
                { memory_limit_mib: this.memoryLimitMiB },
              ),
            );
          } else resolve(res);
        },
        reject: (err) => {
          finish();
          reject(new ForgeError('internal_error', `the CUE engine failed while evaluating ${what}: ${err.message}`));
        },
      };
      this.busy(child);
      child.stdin.write(`${JSON.stringify({ id, ...body })}\n`);
    });
  }

  private stop(child: ChildProcessWithoutNullStreams): void {
    if (this.child === child) this.child = undefined;
    child.kill('SIGKILL');
  }

  /**
   * `cue export --out json` of one package: `moduleRoot` is the CUE module root (absolute),
   * `pkg` the package argument relative to it (`./svc/.forge:project`), `overlays` absolute
   * path → content read instead of the file (the @artifact pre-pass output). Resolves with the
   * exported value. Rejects with a `validation_error` whose message names the CUE version and,
   * for every CUE error, `file:line:column: value.path: message` (files relative to the module
   * root), with `details.cue_errors` holding those lines; or when over the time or memory limit;
   * `internal_error` when the helper cannot run. `internal`: overlay paths that are Forge's own
   * (the schema check, config-schema.ts): no error names them; each names the user's file and
   * line where the value it concerns is written, and the schema's definitions as `forge.#Name`.
   */
  async export(
    moduleRoot: string,
    pkg: string,
    overlays: Record<string, string>,
    what: string,
    internal: string[] = [],
  ): Promise<Record<string, unknown>> {
    const res = await this.request(
      { op: 'export', dir: moduleRoot, package: pkg, overlays, registry: this.options.registry, internal },
      what,
    );
    for (const w of res.warnings ?? []) {
      if (!this.warned.has(w)) {
        this.warned.add(w);
        this.warn(w);
      }
    }
    if (!res.ok) {
      const raw = res.problems?.length ? res.problems : [{ message: 'the CUE evaluator gave no message' }];
      // A misspelt field inside a choice of forms (a trigger, producer, publisher) also fails the
      // choice: the field's own error says more, so the choice's is left out.
      const refused = raw.flatMap((p) => notAField(p)?.path ?? []);
      const lines = raw
        .filter((p) => !(/errors in empty disjunction/.test(p.message) && refused.some((r) => r.startsWith(`${p.path ?? ''}.`))))
        .map(userFacing)
        .map(formatProblem);
      throw new ForgeError(
        'validation_error',
        `CUE evaluation of ${what} failed (CUE ${res.version ?? 'unknown version'}; paths relative to ${moduleRoot}):\n${lines.join('\n')}`,
        {
          cue_version: res.version,
          cue_errors: lines.flatMap((l) => l.split('\n')),
        },
      );
    }
    return res.value as Record<string, unknown>;
  }

  /** The helper's peak resident memory so far, MiB (bench/render.ts); starts the helper if needed. */
  async peakMemoryMiB(): Promise<number> {
    const res = await this.request({ op: 'stats' }, 'the engine statistics');
    return (res.value as { max_rss_kib: number }).max_rss_kib / 1024;
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
