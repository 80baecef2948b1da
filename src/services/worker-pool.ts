/**
 * A bounded pool of worker threads for CPU- or memory-heavy work (issue #19 item 2): the
 * semantic diff (diff-worker.ts) and the packing of a registration (release-worker.ts) run
 * here, never on the event loop, so `/healthz`, deployments and lease renewals are answered
 * while they run.
 *
 * Bounds, each with an answer that says what happened:
 * - at most `size` jobs run at once, each in a thread of its own;
 * - at most `maxQueue` jobs (and `maxQueuedBytes` of their input) wait for a thread; past that
 *   a job is refused at once with 503 `server_busy` and `Retry-After`, never left waiting;
 * - a job runs within a time and a heap limit (`resourceLimits`): past either, its thread is
 *   stopped, the job answers 413 `payload_too_large` saying which limit, and the next job gets
 *   a new thread.
 * Threads are reused: up to `size` wait, unreferenced (they keep no process alive), for the
 * next job.
 *
 * The worker side is `serveJobs(name, handler)`: a module started by a pool answers its jobs
 * with the handler's value, or with the code and message of the ForgeError it threw.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { type ErrorCode, ForgeError } from '../core/errors.js';

/** How long one job may run (ms) and how much heap its thread may use (MiB). */
export interface WorkLimits {
  timeoutMs: number;
  maxHeapMb: number;
}

export interface WorkerPoolOptions {
  /** The module (in this folder, without extension) whose `serveJobs` answers the jobs. */
  module: string;
  /** Threads running at once. */
  size: number;
  /** Jobs that may wait for a thread; more are refused with 503 `server_busy`. */
  maxQueue: number;
  /** Bytes of input that may wait for a thread (each job's `weight`); more are refused too. */
  maxQueuedBytes: number;
  limits: WorkLimits;
  /** The `Retry-After` (seconds) of a refusal. */
  retryAfterSeconds: number;
}

export interface JobOptions {
  /** The job as a user would name it, for messages: "the diff of release 1 and release 2". */
  what: string;
  /** What to suggest when the job is past a limit: "compare their resources with GET …/resources". */
  hint?: string;
  /** The job's input size in bytes (what it holds in memory while it waits). */
  weight?: number;
  /** ArrayBuffers moved to the thread instead of copied (they are empty here afterwards). */
  transfer?: ArrayBuffer[];
  /** Limits of this job instead of the pool's. */
  limits?: WorkLimits;
  /** Waits at the front of the queue and is never refused (a short second step of admitted work whose caller holds a lock). */
  urgent?: boolean;
}

type Answer<T> = { ok: true; value: T } | { ok: false; code: string; message: string; details?: Record<string, unknown> };

interface Waiting {
  job: unknown;
  opts: JobOptions;
  weight: number;
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * A thread running `module`: the built module, or, run from the TypeScript sources (tests,
 * benches), a stub that registers tsx's loader in the thread first (Node 20 does not carry a
 * parent's `--import` loader hooks into a worker's entry module).
 */
function startWorker(module: string, limits: WorkLimits): Worker {
  const url = new URL(`./${module}${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url);
  const options = {
    workerData: { forgeJobs: module },
    resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb, maxYoungGenerationSizeMb: Math.min(64, limits.maxHeapMb / 4) },
    stdout: false,
    stderr: false,
  };
  if (!FROM_SOURCE) return new Worker(url, options);
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}

export class WorkerPool {
  private running = 0;
  private queuedBytes = 0;
  private readonly queue: Waiting[] = [];
  private readonly idle: { worker: Worker; heapMb: number; dropped: () => void }[] = [];

  constructor(readonly options: WorkerPoolOptions) {}

  /** Jobs running and waiting now (for tests and metrics). */
  get load(): { running: number; queued: number } {
    return { running: this.running, queued: this.queue.length };
  }

  /** The refusal `run` would give `what` now, thrown before the job's input is even read (a best effort: the queue may fill meanwhile). */
  refuseWhenFull(what: string) {
    if (this.running >= this.options.size && this.queue.length >= this.options.maxQueue) throw this.busy(what);
  }

  private busy(what: string): ForgeError {
    const { maxQueue, maxQueuedBytes, retryAfterSeconds, size } = this.options;
    return new ForgeError(
      'server_busy',
      `the server is busy: ${size} heavy jobs of this kind run and ${this.queue.length} wait (at most ${maxQueue}, ${Math.round(maxQueuedBytes / 2 ** 20)} MiB); ${what} was not started: retry in ${retryAfterSeconds} s`,
      { retry_after_seconds: retryAfterSeconds, running: this.running, queued: this.queue.length, max_queue: maxQueue },
    );
  }

  /**
   * Runs `job` in a thread and answers the worker's value. Refused with 503 `server_busy`
   * when the queue is full; 413 `payload_too_large` past the time or heap limit.
   */
  run<T>(job: unknown, opts: JobOptions): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const weight = opts.weight ?? 0;
      const entry: Waiting = { job, opts, weight, resolve: resolve as (v: never) => void, reject };
      if (this.running < this.options.size) return this.start(entry);
      const { maxQueue, maxQueuedBytes } = this.options;
      // a single job larger than the byte budget may still wait alone; an urgent job (the second
      // step of work already admitted) is never refused
      if (!opts.urgent && (this.queue.length >= maxQueue || (this.queue.length > 0 && this.queuedBytes + weight > maxQueuedBytes))) {
        return reject(this.busy(opts.what));
      }
      if (opts.urgent) this.queue.unshift(entry);
      else this.queue.push(entry);
      this.queuedBytes += weight;
    });
  }

  private next() {
    const entry = this.queue.shift();
    if (!entry) return;
    this.queuedBytes -= entry.weight;
    this.start(entry);
  }

  private start({ job, opts, resolve, reject }: Waiting) {
    this.running++;
    const limits = opts.limits ?? this.options.limits;
    const reuse = this.idle.findIndex((w) => w.heapMb === limits.maxHeapMb);
    const kept = reuse >= 0 ? this.idle.splice(reuse, 1)[0] : undefined;
    kept?.worker.off('exit', kept.dropped);
    let worker: Worker;
    try {
      worker = kept?.worker ?? startWorker(this.options.module, limits);
    } catch (err) {
      this.running--;
      reject(new ForgeError('internal_error', `${opts.what} could not start its thread: ${(err as Error).message}`));
      return this.next();
    }
    worker.ref();
    const hint = opts.hint ? `; ${opts.hint}` : '';
    let settled = false;
    const finish = (healthy: boolean, fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (healthy && this.idle.length < this.options.size) {
        worker.unref();
        // a kept thread that dies while idle is simply dropped
        const dropped = () => {
          const i = this.idle.findIndex((w) => w.worker === worker);
          if (i >= 0) this.idle.splice(i, 1);
        };
        worker.once('exit', dropped);
        this.idle.push({ worker, heapMb: limits.maxHeapMb, dropped });
      } else void worker.terminate();
      this.running--;
      fn();
      this.next();
    };
    const timer = setTimeout(
      () =>
        finish(false, () =>
          reject(
            new ForgeError('payload_too_large', `${opts.what} did not finish within ${limits.timeoutMs / 1000} s and was stopped${hint}`),
          ),
        ),
      limits.timeoutMs,
    );
    const onMessage = (answer: Answer<unknown>) =>
      finish(true, () =>
        answer.ok ? resolve(answer.value as never) : reject(new ForgeError(answer.code as ErrorCode, answer.message, answer.details)),
      );
    const onError = (err: Error & { code?: string }) =>
      finish(false, () =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new ForgeError('payload_too_large', `${opts.what} needs more than ${limits.maxHeapMb} MiB of memory and was stopped${hint}`)
            : new ForgeError('internal_error', `${opts.what} failed: ${err.message}`),
        ),
      );
    const onExit = (exitCode: number) =>
      finish(false, () =>
        reject(new ForgeError('internal_error', `${opts.what}: its thread stopped (exit code ${exitCode}) without an answer`)),
      );
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    try {
      worker.postMessage(job, opts.transfer ?? []);
    } catch (err) {
      finish(false, () =>
        reject(new ForgeError('internal_error', `${opts.what} could not be handed to its thread: ${(err as Error).message}`)),
      );
    }
  }
}

/**
 * In a thread a pool started for `module`: answers each job with `handler`'s value, or with the
 * code, message and details of what it threw (a RangeError, an allocation that failed, is a 413).
 * Anywhere else (the module imported on the main thread, or by another pool's thread) it does nothing.
 */
export function serveJobs<J, T>(module: string, handler: (job: J) => T) {
  if (!parentPort || (workerData as { forgeJobs?: string } | null)?.forgeJobs !== module) return;
  const port = parentPort;
  port.on('message', (job: J) => {
    let answer: Answer<T>;
    try {
      answer = { ok: true, value: handler(job) };
    } catch (err) {
      const e = err as Error & { code?: unknown; details?: Record<string, unknown> };
      answer =
        e instanceof ForgeError
          ? { ok: false, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) }
          : e instanceof RangeError
            ? { ok: false, code: 'payload_too_large', message: `the input is too large to process: ${e.message}` }
            : { ok: false, code: 'internal_error', message: e.message };
    }
    port.postMessage(answer);
  });
}
