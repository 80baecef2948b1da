/**
 * The dashboard in tests: its build (dist/web, rebuilt when web/ changed since), Debian's
 * chromium driven by playwright-core (never a downloaded browser), and a reader for
 * server-sent event streams.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { REPO_ROOT } from './forge.js';

export const WEB_DIST = join(REPO_ROOT, 'dist/web');
export const CHROMIUM = process.env.FORGE_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-output/screenshots');

function newest(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds the dashboard unless dist/web is newer than every file under web/. Test files may call it at once: a lock directory serialises them. */
export async function buildWeb(): Promise<void> {
  const lock = join(REPO_ROOT, 'dist/.web-build.lock');
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock left by a killed build is stale after a minute
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      await sleep(100);
    }
  }
  try {
    const index = join(WEB_DIST, 'index.html');
    if (existsSync(index) && statSync(index).mtimeMs >= newest(join(REPO_ROOT, 'web'))) return;
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.ts'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Headless Debian chromium. playwright gives each launch a fresh empty profile of its own
 * (--user-data-dir in a new temp folder, removed on close); the flags keep chromium off the
 * network, which this machine closes.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium), as scripts/test-prereqs.sh does`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { browser, close: () => browser.close() };
}

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Reads a text/event-stream response; next(pred) resolves with the first event matching it. */
export function readEvents(res: Response) {
  const events: SseEvent[] = [];
  const waiters: { pred: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  let ended = false;
  const endWaiters: (() => void)[] = [];
  (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: SseEvent = { data: '' };
          for (const line of block.split('\n')) {
            const m = /^(\w+): ?(.*)$/.exec(line);
            if (!m) continue;
            if (m[1] === 'data') e.data += m[2];
            else if (m[1] === 'id' || m[1] === 'event') e[m[1]] = m[2];
          }
          if (!e.event && !e.data) continue; // comments, retry hints
          events.push(e);
          for (const w of [...waiters])
            if (w.pred(e)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(e);
            }
        }
      }
    } catch {
      /* aborted */
    }
    ended = true;
    for (const r of endWaiters) r();
  })();
  return {
    events,
    next(pred: (e: SseEvent) => boolean): Promise<SseEvent> {
      const found = events.find(pred);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ pred, resolve }));
    },
    ended: () => (ended ? Promise.resolve() : new Promise<void>((r) => endWaiters.push(r))),
  };
}
