/**
 * Runs the git CLI (execFile, no shell) against one repository directory. Git gets exactly the
 * environment it is given (the server's snapshot and the remote's credentials, from
 * src/gitops/remote.ts), plus no terminal prompts and the C locale whose messages Forge reads.
 * Git is started by a small helper process (git-runner.ts): a fork of the server itself held
 * the event loop for up to 400 ms per command under load. Should the helper not start, git is
 * started directly.
 */
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Env } from '../config/environment.js';

const MAX_OUTPUT = 256 * 1024 * 1024;

export type RunnerAnswer = { stdout: Buffer | Uint8Array; stderr: string; code: number; error?: string };

/** The git-runner process, started on first use and again after it exits; undefined when it cannot start. */
class GitRunner {
  private child: ChildProcess | undefined;
  private failed = false;
  private nextId = 0;
  private readonly pending = new Map<number, (answer: RunnerAnswer) => void>();

  run(args: string[], cwd: string, env: Record<string, string>, input?: string | Buffer): Promise<RunnerAnswer> | undefined {
    const child = this.start();
    if (!child) return undefined;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      child.channel?.ref(); // a command is under way: keep the process alive for its answer
      const bytes = input === undefined ? undefined : typeof input === 'string' ? Buffer.from(input) : input;
      child.send({ id, args, cwd, env, input: bytes ? new Uint8Array(bytes) : undefined }, (err) => {
        if (err)
          this.settle(id, {
            stdout: Buffer.alloc(0),
            stderr: '',
            code: 1,
            error: `the git runner did not take the command: ${err.message}`,
          });
      });
    });
  }

  private settle(id: number, answer: RunnerAnswer) {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.child?.channel?.unref();
    resolve(answer);
  }

  private start(): ChildProcess | undefined {
    if (this.child?.connected) return this.child;
    if (this.failed) return undefined;
    try {
      const fromSource = import.meta.url.endsWith('.ts');
      const file = fileURLToPath(new URL(`./git-runner.${fromSource ? 'ts' : 'js'}`, import.meta.url));
      const child = fork(file, [], {
        execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [],
        serialization: 'advanced',
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      child.on('message', (m) => {
        const answer = m as RunnerAnswer & { id: number };
        this.settle(answer.id, answer);
      });
      child.on('exit', () => {
        if (this.child === child) this.child = undefined;
        for (const id of [...this.pending.keys()])
          this.settle(id, { stdout: Buffer.alloc(0), stderr: '', code: 1, error: 'the git runner process stopped' });
      });
      child.on('error', () => {
        this.failed = true;
      });
      child.unref();
      child.channel?.unref();
      this.child = child;
      return child;
    } catch {
      this.failed = true;
      return undefined;
    }
  }
}

const runner = new GitRunner();

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args[0]} failed${code === null ? '' : ` (exit ${code})`}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'GitError';
  }
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

export class Git {
  constructor(
    readonly dir: string,
    private readonly env: Env = {},
  ) {}

  /** Runs git; resolves with the output whatever the exit code when `allowFail`, else rejects on non-zero. */
  async run(args: string[], opts: { input?: string | Buffer; allowFail?: boolean } = {}): Promise<GitResult> {
    const env = { ...this.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } as Record<string, string>;
    const answer = (await runner.run(args, this.dir, env, opts.input)) ?? (await runDirectly(args, this.dir, env, opts.input));
    const stdout = Buffer.isBuffer(answer.stdout)
      ? answer.stdout
      : Buffer.from(answer.stdout.buffer, answer.stdout.byteOffset, answer.stdout.byteLength);
    const result = { stdout, stderr: answer.stderr, code: answer.code };
    if (answer.error !== undefined && !opts.allowFail) throw new GitError(args, answer.code, result.stderr || answer.error);
    return result;
  }

  async text(args: string[], input?: string | Buffer): Promise<string> {
    return (await this.run(args, { input })).stdout.toString('utf8').trim();
  }
}

/** git started from this process: by the runner, and here when the runner cannot start. */
export function runDirectly(args: string[], cwd: string, env: Record<string, string>, input?: string | Buffer): Promise<RunnerAnswer> {
  return new Promise((resolve) => {
    const child = execFile('git', args, { cwd, encoding: 'buffer', maxBuffer: MAX_OUTPUT, env }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number'
          ? (err as unknown as { code: number }).code
          : 1
        : 0;
      resolve({ stdout, stderr: stderr.toString('utf8'), code, ...(err ? { error: err.message } : {}) });
    });
    child.stdin?.on('error', () => {}); // git may exit before reading all input; the exit code tells
    child.stdin?.end(input ?? '');
  });
}
