/**
 * The process that starts git for the server (src/gitops/git.ts). Starting a process from the
 * server means fork(): its page tables are copied while the event loop waits, and with the
 * server's heap, PGlite's memory and its threads that took 100–400 ms per git command under
 * load (issue #19 item 2: `/healthz` waited behind every GitOps turn). This process is small,
 * so its forks are cheap; the server talks to it over IPC. It exits when the server goes (its
 * IPC channel closes).
 *
 * Message in:  { id, args, cwd, env, input?: Uint8Array }
 * Message out: { id, stdout, stderr, code, error? } (RunnerAnswer)
 */
import { runDirectly } from './git.js';

interface Request {
  id: number;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  input?: Uint8Array;
}

process.on('disconnect', () => process.exit(0));
process.on('message', async (message) => {
  const { id, args, cwd, env, input } = message as Request;
  const answer = await runDirectly(args, cwd, env, input ? Buffer.from(input.buffer, input.byteOffset, input.byteLength) : undefined).catch(
    (err: Error) => ({ stdout: Buffer.alloc(0), stderr: '', code: 1, error: err.message }),
  );
  process.send?.({ id, ...answer });
});
