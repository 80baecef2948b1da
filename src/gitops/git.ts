/**
 * Runs the git CLI (execFile, no shell) against one repository directory. Git gets exactly the
 * environment it is given (the server's snapshot and the remote's credentials, from
 * src/gitops/remote.ts), plus no terminal prompts and the C locale whose messages Forge reads.
 */
import { execFile } from 'node:child_process';
import type { Env } from '../config/environment.js';

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
  run(args: string[], opts: { input?: string | Buffer; allowFail?: boolean } = {}): Promise<GitResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        'git',
        args,
        {
          cwd: this.dir,
          encoding: 'buffer',
          maxBuffer: 256 * 1024 * 1024,
          env: { ...this.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
        },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number'
              ? (err as unknown as { code: number }).code
              : 1
            : 0;
          const result = { stdout, stderr: stderr.toString('utf8'), code };
          if (err && !opts.allowFail) reject(new GitError(args, code, result.stderr || err.message));
          else resolve(result);
        },
      );
      child.stdin?.on('error', () => {}); // git may exit before reading all input; the exit code tells
      child.stdin?.end(opts.input ?? '');
    });
  }

  async text(args: string[], input?: string | Buffer): Promise<string> {
    return (await this.run(args, { input })).stdout.toString('utf8').trim();
  }
}
