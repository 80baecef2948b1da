/**
 * The pointer writer (DESIGN.md §8): commits `release.yaml` files to the GitOps repository with
 * git plumbing on a bare clone (no work tree), pushes with a lease (git's compare-and-swap),
 * and on a non-fast-forward fetches, rebuilds on the new tip and retries with bounded
 * exponential backoff and jitter. Updates submitted while a push is in flight are queued and
 * leave together in the next commit, one update per pointer file per commit.
 */

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_HEAD_TRAILER, type AuditAnchor, parseAuditHead, withTrailers } from '../core/audit-anchor.js';
import { batchMessage } from '../core/commit-message.js';
import { ForgeError } from '../core/errors.js';
import { gitopsPushRetries } from '../observability/metrics.js';
import { Git, GitError } from './git.js';
import type { GitOpsRemote } from './remote.js';
import { editTree, type ObjectFormat } from './trees.js';

/** The only files the writer may touch: `<env>/apps/<owner>/<name>/<project>/release.yaml`. */
const POINTER_FILE = /^[a-z0-9-]+\/apps\/[a-z0-9._-]+\/[a-z0-9._-]+\/[a-z0-9-]+\/release\.yaml$/;

export interface PointerUpdate {
  path: string;
  content: string;
  /** This update's commit message; several in one commit are combined. */
  message: string;
  /** Identifies the update to `prepare` (a deployment id). */
  id?: string;
}

export interface Landed {
  /** The commit that holds the content (the new commit, or the tip when it was already there). */
  commit: string;
  /** True when the file already had this content: no commit was made for it. */
  unchanged: boolean;
  /** The parent of `commit` when this writer made it: every earlier pointer commit is its ancestor or itself. */
  parent?: string | null;
}

/** The update's owner no longer holds it (its lease was taken over): it was not pushed. */
export class UpdateWithdrawnError extends Error {
  constructor(id: string) {
    super(`update ${id} was withdrawn before its push: its owner no longer holds it`);
    this.name = 'UpdateWithdrawnError';
  }
}

/** One update as `prepare` sees it: the file as it stands at the tip the commit will be built on. */
export interface PrepareItem {
  id: string;
  path: string;
  /** The file's content at `base`, or null when it is not there. */
  current: string | null;
}

/**
 * What `prepare` decides for one update: commit it (with the content and message given, built
 * on what stands at the tip), `landed` in `commit` already (nothing to push), `withdrawn` (its
 * owner no longer holds it) or `refused` (rejected with `error`, nothing pushed).
 */
export type Prepared =
  | { action: 'write'; content: string; message: string }
  | { action: 'landed'; commit: string }
  | { action: 'withdrawn' }
  | { action: 'refused'; error: Error };

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export interface WriterOptions {
  remote: GitOpsRemote;
  branch: string;
  /** Where the bare clone lives (shared safely by processes using the same remote). */
  cacheDir: string;
  /** `Name <email>` */
  author: string;
  retry?: Partial<RetryPolicy>;
  /** Most pointer files in one commit. */
  maxBatch?: number;
  /**
   * Called inside the turn at the remote (after the fetch, right before each commit is built),
   * with the tip the commit will be built on, the updates that carry an id and what their files
   * hold there, and the session `lockRemote` gave (the database transaction holding the turn).
   * Answers, per id, what to do (see `Prepared`); an id it leaves out is withdrawn.
   */
  prepare?: (base: string | null, items: PrepareItem[], session: unknown) => Promise<Map<string, Prepared>>;
  /**
   * Runs one fetch-commit-push attempt under a lock shared with the other writers of this
   * remote (the database's), passing the attempt a session (its transaction). Without it, two
   * busy replicas race: the one that just pushed builds on a tip it knows while the other must
   * fetch first, and can lose every time.
   */
  lockRemote?: <T>(attempt: (session: unknown) => Promise<T>) => Promise<T>;
  /**
   * Trailer lines for the commit about to be built (inside the turn, with `lockRemote`'s
   * session), appended as the message's last paragraph: the audit head anchor
   * (`Forge-Audit-Head: <seq> <hash>`, src/core/audit-anchor.ts).
   */
  trailers?: (session: unknown) => Promise<string[]>;
}

/** What `change`'s `build` may read of the tip the commit will be built on. */
export interface TipReader {
  /** The pointer files under a directory (`<env>/apps/`). */
  list(prefix: string): Promise<string[]>;
  /** The content of each path (null where absent). */
  read(paths: string[]): Promise<(string | null)[]>;
}

interface Queued {
  update: PointerUpdate;
  resolve: (l: Landed) => void;
  reject: (e: Error) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseAuthor(author: string): { name: string; email: string } {
  const m = /^\s*(.*?)\s*<([^>]*)>\s*$/.exec(author);
  if (!m) throw new Error(`invalid GitOps author "${author}": expected "Name <email>"`);
  return { name: m[1], email: m[2] };
}

export class GitOpsWriter {
  private queue: Queued[] = [];
  private draining = false;
  /** Serialises this process's use of its fetch ref and tip. */
  private lock: Promise<unknown> = Promise.resolve();
  /** The remote tip as last seen (after a fetch or our own push); null = no branch yet; undefined = not known. */
  private tip: string | null | undefined;
  private readonly retry: RetryPolicy;
  private readonly author: { name: string; email: string };

  private constructor(
    readonly git: Git,
    private readonly opts: WriterOptions,
    private readonly format: ObjectFormat,
    private readonly fetchRef: string,
  ) {
    // Under steady contention from other replicas a writer may lose several races in a row (the
    // winner pushes on a tip it already knows while the loser must fetch first): 25 attempts
    // with backoff capped at 1 s bound the wait to roughly 15 s.
    this.retry = { attempts: 25, baseMs: 20, maxMs: 1000, ...opts.retry };
    this.author = parseAuthor(opts.author);
  }

  /**
   * Makes (or reuses) the bare clone and fetches the branch. An unreachable remote does not
   * fail here: updates then answer gitops_unavailable until it is back.
   */
  static async open(opts: WriterOptions): Promise<GitOpsWriter> {
    const dir = join(opts.cacheDir, createHash('sha256').update(opts.remote.url).digest('hex').slice(0, 16));
    const git = new Git(dir, opts.remote.env);
    if (!existsSync(join(dir, 'HEAD'))) {
      mkdirSync(opts.cacheDir, { recursive: true });
      let tmp = mkdtempSync(`${dir}.tmp-`);
      const cloned = await new Git(opts.cacheDir, opts.remote.env).run(
        ['clone', '--bare', '--quiet', '--no-tags', '--', opts.remote.url, tmp],
        { allowFail: true },
      );
      if (cloned.code !== 0) {
        // Unreachable for now: start from an empty repository; the first deployment fetches (and fails while it stays unreachable).
        rmSync(tmp, { recursive: true, force: true });
        tmp = mkdtempSync(`${dir}.tmp-`);
        await new Git(opts.cacheDir, opts.remote.env).run(['init', '--bare', '--quiet', tmp]);
      }
      await new Git(tmp, opts.remote.env).run(['config', 'gc.auto', '0']);
      await new Git(tmp, opts.remote.env).run(['config', 'maintenance.auto', 'false']);
      try {
        renameSync(tmp, dir);
      } catch {
        rmSync(tmp, { recursive: true, force: true }); // another process made it first
      }
    }
    const format = (await git.text(['rev-parse', '--show-object-format'])) as ObjectFormat;
    const writer = new GitOpsWriter(git, opts, format, `refs/forge/fetch-${process.pid}-${randomBytes(4).toString('hex')}`);
    await writer
      .exclusive(() => writer.fetch())
      .catch(() => {
        // the remote is down: the server still starts; deployments fetch before their first push
      });
    return writer;
  }

  /** Queues one pointer update; resolves once it is in the remote branch. */
  submit(update: PointerUpdate): Promise<Landed> {
    if (!POINTER_FILE.test(update.path)) {
      return Promise.reject(
        new Error(`refusing to write "${update.path}": the writer only writes <env>/apps/<owner>/<name>/<project>/release.yaml`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ update, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /**
   * One commit of several pointer writes and deletions (renaming or retiring an environment),
   * made in this writer's turn at the remote and pushed with a lease on the tip it was built on,
   * retried on a lost race like `submit`'s commits. `build` is called inside the turn on every
   * attempt, with the tip the commit will be built on, a reader of that tip and the session
   * `lockRemote` gave, so what it decides is re-checked against the tip the push replaces; it
   * answers the files to change (path → content, or null to delete; every path must be a
   * pointer file) and the message, or null for nothing to do. After the push lands, still in
   * the turn, `landed` runs with the commit (null: nothing changed) and the session: what it
   * answers is the result. Refusals a retry cannot fix throw 502 `gitops_rejected` at once.
   */
  change<T>(
    build: (
      base: string | null,
      tip: TipReader,
      session: unknown,
    ) => Promise<{ files: Map<string, string | null>; message: string } | null>,
    landed: (commit: string | null, base: string | null, session: unknown) => Promise<T>,
  ): Promise<T> {
    return this.exclusive(async () => {
      const lockRemote = this.opts.lockRemote ?? ((attempt) => attempt(undefined));
      let lastError: unknown;
      for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
        if (attempt > 0) {
          gitopsPushRetries.inc();
          await sleep(Math.random() * Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** attempt));
        }
        const outcome = await lockRemote(async (session): Promise<{ done: true; value: T } | { done: false }> => {
          try {
            await this.fetch();
          } catch (err) {
            if (err instanceof ForgeError && err.code === 'gitops_rejected') throw err;
            lastError = err;
            return { done: false };
          }
          const base = this.tip ?? null;
          const reader: TipReader = {
            list: (prefix) => this.pointerPathsAt(base, prefix),
            read: (paths) => this.readAt(base, paths),
          };
          const wanted = await build(base, reader, session);
          if (!wanted?.files.size) return { done: true, value: await landed(null, base, session) };
          for (const path of wanted.files.keys()) {
            if (!POINTER_FILE.test(path))
              throw new Error(`refusing to change "${path}": the writer only writes <env>/apps/<owner>/<name>/<project>/release.yaml`);
          }
          const paths = [...wanted.files.keys()];
          const writes = paths.filter((p) => wanted.files.get(p) !== null);
          const blobs = writes.length ? await this.writeBlobs(writes.map((p) => wanted.files.get(p)!)) : [];
          const oids = new Map<string, string | null>(paths.map((p) => [p, null]));
          writes.forEach((p, i) => oids.set(p, blobs[i]));
          const { tree, unchanged } = await editTree(this.git, this.format, base, oids);
          if (unchanged.size === paths.length) return { done: true, value: await landed(null, base, session) };
          const message = withTrailers(wanted.message, (await this.opts.trailers?.(session)) ?? []);
          const commit = await this.commitTree(tree, base, message);
          const pushed = await this.push(commit, base);
          if (pushed === 'ok') {
            this.tip = commit;
            return { done: true, value: await landed(commit, base, session) };
          }
          if (pushed instanceof ForgeError) throw pushed;
          lastError = pushed;
          return { done: false };
        });
        if (outcome.done) return outcome.value;
      }
      const why = lastError instanceof Error ? lastError.message : 'the branch kept moving (non-fast-forward on every attempt)';
      throw new ForgeError(
        'gitops_unavailable',
        `could not push to the GitOps repository ${this.opts.remote.display} after ${this.retry.attempts} attempts: ${why}`,
      );
    });
  }

  /** The pointer files under `prefix` (a directory, e.g. `staging/apps/`) at commit `base`. */
  private async pointerPathsAt(base: string | null, prefix: string): Promise<string[]> {
    if (!base) return [];
    const out = await this.git.text(['ls-tree', '-r', '--name-only', base, '--', prefix]);
    return out.split('\n').filter((p) => p.startsWith(prefix) && POINTER_FILE.test(p));
  }

  /** The file at the remote tip after a fresh fetch, or null. */
  readFile(path: string): Promise<{ tip: string | null; content: string | null }> {
    return this.exclusive(async () => {
      await this.fetch();
      if (!this.tip) return { tip: null, content: null };
      const r = await this.git.run(['cat-file', 'blob', `${this.tip}:${path}`], { allowFail: true });
      return { tip: this.tip, content: r.code === 0 ? r.stdout.toString('utf8') : null };
    });
  }

  /**
   * The file at commit `rev` (fetching once when `rev` is not known here yet), or null when the
   * commit or the file is not there. For reading what a revision Argo CD reports points at.
   */
  fileAt(rev: string, path: string): Promise<string | null> {
    if (!/^[0-9a-f]{7,64}$/.test(rev)) return Promise.resolve(null);
    return this.exclusive(async () => {
      const known = async () => (await this.git.run(['cat-file', '-e', `${rev}^{commit}`], { allowFail: true })).code === 0;
      if (!(await known())) {
        await this.fetch();
        if (!(await known())) return null;
      }
      const r = await this.git.run(['cat-file', 'blob', `${rev}:${path}`], { allowFail: true });
      return r.code === 0 ? r.stdout.toString('utf8') : null;
    });
  }

  /** Every pointer file at the remote tip after a fresh fetch: path → content. */
  readPointers(): Promise<{ tip: string | null; files: Map<string, string> }> {
    return this.exclusive(async () => {
      await this.fetch();
      const files = new Map<string, string>();
      if (!this.tip) return { tip: null, files };
      const paths = (await this.git.text(['ls-tree', '-r', '--name-only', this.tip])).split('\n').filter((p) => POINTER_FILE.test(p));
      // One git process for all of them: `cat-file --batch` answers "<oid> blob <size>\n<content>\n" per line asked.
      const out = (await this.git.run(['cat-file', '--batch'], { input: paths.map((p) => `${this.tip}:${p}\n`).join('') })).stdout;
      let at = 0;
      for (const path of paths) {
        const eol = out.indexOf(10, at);
        const size = Number(out.subarray(at, eol).toString('utf8').split(' ')[2]);
        files.set(path, out.subarray(eol + 1, eol + 1 + size).toString('utf8'));
        at = eol + 1 + size + 1;
      }
      return { tip: this.tip, files };
    });
  }

  /** The oldest commit up to `tip` that changed how often `needle` occurs in `path` (pickaxe), or null. */
  async commitIntroducing(tip: string, path: string, needle: string): Promise<string | null> {
    const out = await this.git.text(['log', '--format=%H', '--reverse', `-S${needle}`, tip, '--', path]);
    return out.split('\n')[0] || null;
  }

  /**
   * Every audit head anchored in the branch's history after a fresh fetch (trailer
   * `Forge-Audit-Head`), newest commit first; an empty list when no commit carries one.
   */
  auditAnchors(): Promise<AuditAnchor[]> {
    return this.exclusive(async () => {
      await this.fetch();
      if (!this.tip) return [];
      const format = `--format=%H%x09%(trailers:key=${AUDIT_HEAD_TRAILER},valueonly,separator=%x09)`;
      const out = (await this.git.run(['log', '-z', format, this.tip])).stdout.toString('utf8');
      const anchors: AuditAnchor[] = [];
      for (const record of out.split('\0')) {
        const [commit, ...values] = record.trim().split('\t');
        for (const v of values) {
          const head = parseAuditHead(v);
          if (commit && head) anchors.push({ commit, ...head });
        }
      }
      return anchors;
    });
  }

  /**
   * Whether commit `a` is `b` or an ancestor of it. When either is not known to this clone yet
   * (another replica pushed it), fetches first; a commit the remote no longer has (its history
   * was rewritten) is nobody's ancestor or descendant: false.
   */
  async isAncestor(a: string, b: string): Promise<boolean> {
    if (a === b) return true;
    const known = async () =>
      (await this.git.run(['cat-file', '-e', `${a}^{commit}`], { allowFail: true })).code === 0 &&
      (await this.git.run(['cat-file', '-e', `${b}^{commit}`], { allowFail: true })).code === 0;
    if (!(await known())) {
      await this.exclusive(() => this.fetch()).catch(() => {});
      if (!(await known())) return false;
    }
    const r = await this.git.run(['merge-base', '--is-ancestor', a, b], { allowFail: true });
    return r.code === 0;
  }

  async close(): Promise<void> {
    await this.exclusive(() => this.git.run(['update-ref', '-d', this.fetchRef], { allowFail: true }));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  private async fetch(): Promise<void> {
    const branch = this.opts.branch;
    const r = await this.git.run(['fetch', '--quiet', '--no-tags', '--', this.opts.remote.url, `+refs/heads/${branch}:${this.fetchRef}`], {
      allowFail: true,
    });
    if (r.code !== 0) {
      // An empty remote has no branch yet: that is a tip of null, not an outage.
      const ls = await this.git.run(['ls-remote', '--heads', '--', this.opts.remote.url, branch], { allowFail: true });
      if (ls.code === 0 && ls.stdout.toString().trim() === '') {
        this.tip = null;
        return;
      }
      const refusal = classifyRefusal(`${r.stderr}\n${ls.stderr}`, '');
      if (refusal) throw rejected(this.opts.remote, refusal, 'fetch');
      throw unavailable(this.opts.remote, new GitError(['fetch'], r.code, r.stderr));
    }
    this.tip = await this.git.text(['rev-parse', '--verify', `${this.fetchRef}^{commit}`]);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length) {
        const batch: Queued[] = [];
        const paths = new Set<string>();
        const rest: Queued[] = [];
        for (const q of this.queue) {
          if (batch.length < (this.opts.maxBatch ?? 100) && !paths.has(q.update.path)) {
            batch.push(q);
            paths.add(q.update.path);
          } else rest.push(q);
        }
        this.queue = rest;
        await this.exclusive(() => this.commitBatch(batch));
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * One commit for the batch, retried until it lands or the attempts run out. Only a lost race
   * (the branch moved: non-fast-forward, stale lease) or an unreachable remote is retried; a
   * refusal no retry can fix (a hook declined, a protected branch, permission denied, no such
   * repository) fails at once with 502 `gitops_rejected` carrying the remote's own message, and
   * a batch of several is then tried one update at a time, so one refused update fails alone.
   * Settles every item.
   */
  private async commitBatch(batch: Queued[]): Promise<void> {
    let live = batch;
    let lastError: unknown;
    try {
      const lockRemote = this.opts.lockRemote ?? ((attempt) => attempt(undefined));
      for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
        if (attempt > 0) {
          gitopsPushRetries.inc();
          await sleep(Math.random() * Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** attempt));
        }
        const outcome = await lockRemote(async (session): Promise<'done' | 'retry'> => {
          if (attempt > 0 || this.tip === undefined) {
            try {
              await this.fetch();
            } catch (err) {
              if (err instanceof ForgeError && err.code === 'gitops_rejected') throw err;
              lastError = err;
              return 'retry';
            }
          }
          const base = this.tip ?? null; // known here: a failed fetch went round the loop again
          if (this.opts.prepare) live = await this.prepared(base, live, session);
          if (!live.length) return 'done';
          const blobs = await this.writeBlobs(live.map((q) => q.update.content));
          const { tree, unchanged } = await editTree(this.git, this.format, base, new Map(live.map((q, i) => [q.update.path, blobs[i]])));
          const changing = live.filter((q) => !unchanged.has(q.update.path));
          if (!changing.length) {
            for (const q of live) q.resolve({ commit: base!, unchanged: true });
            return 'done';
          }
          const message = withTrailers(batchMessage(changing.map((q) => q.update.message)), (await this.opts.trailers?.(session)) ?? []);
          const commit = await this.commitTree(tree, base, message);
          const pushed = await this.push(commit, base);
          if (pushed === 'ok') {
            this.tip = commit;
            for (const q of live)
              q.resolve(changing.includes(q) ? { commit, unchanged: false, parent: base } : { commit: base!, unchanged: true });
            return 'done';
          }
          if (pushed instanceof ForgeError) throw pushed; // refused for good: retrying cannot help
          lastError = pushed;
          return 'retry';
        });
        if (outcome === 'done') return;
      }
      const why = lastError instanceof Error ? lastError.message : 'the branch kept moving (non-fast-forward on every attempt)';
      throw new ForgeError(
        'gitops_unavailable',
        `could not push to the GitOps repository ${this.opts.remote.display} after ${this.retry.attempts} attempts: ${why}`,
      );
    } catch (err) {
      if (err instanceof ForgeError && err.code === 'gitops_rejected' && live.length > 1 && err.details?.refusal === 'push') {
        // One update of several may be what the remote refuses: each is tried alone.
        for (const q of live) await this.commitBatch([q]);
        return;
      }
      const e = err instanceof ForgeError ? err : unavailable(this.opts.remote, err);
      for (const q of live) q.reject(e);
    }
  }

  /** Asks `prepare` about the updates that carry an id; settles those it withdraws, refuses or finds landed; answers the rest, as it wants them written. */
  private async prepared(base: string | null, live: Queued[], session: unknown): Promise<Queued[]> {
    const asked = live.filter((q) => q.update.id);
    if (!asked.length) return live;
    const current = await this.readAt(
      base,
      asked.map((q) => q.update.path),
    );
    const verdicts = await this.opts.prepare!(
      base,
      asked.map((q, i) => ({ id: q.update.id!, path: q.update.path, current: current[i] })),
      session,
    );
    const out: Queued[] = [];
    for (const q of live) {
      if (!q.update.id) {
        out.push(q);
        continue;
      }
      const v = verdicts.get(q.update.id) ?? { action: 'withdrawn' as const };
      if (v.action === 'withdrawn') q.reject(new UpdateWithdrawnError(q.update.id));
      else if (v.action === 'refused') q.reject(v.error);
      else if (v.action === 'landed') q.resolve({ commit: v.commit, unchanged: true });
      else {
        q.update = { ...q.update, content: v.content, message: v.message };
        out.push(q);
      }
    }
    return out;
  }

  /** The content of each of `paths` at commit `base` (null where absent), with one git process. */
  private async readAt(base: string | null, paths: string[]): Promise<(string | null)[]> {
    if (!base) return paths.map(() => null);
    const out = (await this.git.run(['cat-file', '--batch'], { input: paths.map((p) => `${base}:${p}\n`).join('') })).stdout;
    const result: (string | null)[] = [];
    let at = 0;
    for (let i = 0; i < paths.length; i++) {
      const eol = out.indexOf(10, at);
      const header = out.subarray(at, eol).toString('utf8');
      if (header.endsWith(' missing')) {
        result.push(null);
        at = eol + 1;
        continue;
      }
      const size = Number(header.split(' ')[2]);
      result.push(out.subarray(eol + 1, eol + 1 + size).toString('utf8'));
      at = eol + 1 + size + 1;
    }
    return result;
  }

  private async writeBlobs(contents: string[]): Promise<string[]> {
    if (contents.length === 1) return [await this.git.text(['hash-object', '-w', '--stdin'], contents[0])];
    const dir = mkdtempSync(join(this.git.dir, 'forge-blobs-'));
    try {
      const files = contents.map((c, i) => {
        const f = join(dir, String(i));
        writeFileSync(f, c);
        return f;
      });
      return (await this.git.text(['hash-object', '-w', '--stdin-paths', '--no-filters'], files.join('\n') + '\n')).split('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async commitTree(tree: string, parent: string | null, message: string): Promise<string> {
    const { name, email } = this.author;
    const args = ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'];
    const git = new Git(this.git.dir, {
      ...this.opts.remote.env,
      GIT_AUTHOR_NAME: name,
      GIT_AUTHOR_EMAIL: email,
      GIT_COMMITTER_NAME: name,
      GIT_COMMITTER_EMAIL: email,
    });
    return git.text(args, message);
  }

  /**
   * Pushes with a lease on the tip the commit was built on: 'ok'; an Error when it did not land
   * for a reason a retry may fix (the branch moved; the remote unreachable); a ForgeError
   * `gitops_rejected` when the remote refused it for good.
   */
  private async push(commit: string, expected: string | null): Promise<'ok' | Error> {
    const ref = `refs/heads/${this.opts.branch}`;
    const r = await this.git.run(
      ['push', '--porcelain', `--force-with-lease=${ref}:${expected ?? ''}`, '--', this.opts.remote.url, `${commit}:${ref}`],
      { allowFail: true },
    );
    if (r.code === 0) return 'ok';
    const out = r.stdout.toString('utf8');
    const line = out.split('\n').find((l) => l.startsWith('!\t'));
    const reason = line ? line.split('\t').slice(2).join(' ') : '';
    if (line && RACE.test(reason)) return new Error(`push rejected: ${reason}`);
    const refusal = classifyRefusal(r.stderr, reason);
    if (refusal) return rejected(this.opts.remote, refusal, 'push');
    if (line) return new Error(`push rejected: ${reason}`);
    return unavailable(this.opts.remote, new GitError(['push'], r.code, r.stderr));
  }
}

/** A lost race: the branch moved under the push (a retry on the new tip lands). */
const RACE = /non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref|incorrect old value/i;

/** Refusals a retry cannot fix, as git and the usual hosts word them. */
const REFUSED =
  /hook declined|protected branch|permission denied|permission to .* denied|access denied|forbidden|\b403\b|not authori[sz]ed|authentication failed|could not read username|repository not found|repository '[^']*' not found|rule violations|\bGH0(06|13)\b|does not appear to be a git repository|no such repository|not a git repository|shallow update not allowed|deny(Current|Deletes|NonFastForwards)|refusing to update/i;

/**
 * The remote's own words when `stderr`/`reason` say it refused for good, or null. Keeps the
 * `remote:` lines a hook printed (its message), then git's verdict.
 */
export function classifyRefusal(stderr: string, reason: string): string | null {
  if (!REFUSED.test(`${reason}\n${stderr}`)) return null;
  const remote = stderr
    .split('\n')
    .filter((l) => l.startsWith('remote: '))
    .map((l) => l.slice('remote: '.length).trimEnd())
    .filter((l) => l.trim() !== '');
  const verdict =
    reason ||
    stderr
      .split('\n')
      .map((l) => l.trim())
      .filter(
        (l) =>
          l &&
          !l.startsWith('remote: ') &&
          !l.startsWith('To ') &&
          !l.startsWith('!') &&
          !/^Please make sure|^and the repository exists/.test(l),
      )
      .slice(-3)
      .join(' ');
  return [...remote, verdict].filter(Boolean).join('\n');
}

function rejected(remote: GitOpsRemote, message: string, refusal: 'push' | 'fetch'): ForgeError {
  return new ForgeError('gitops_rejected', `the GitOps repository ${remote.display} refused the ${refusal}: ${message}`, {
    refusal,
    remote_message: message,
  });
}

function unavailable(remote: GitOpsRemote, err: unknown): ForgeError {
  const text = err instanceof Error ? err.message : String(err);
  return new ForgeError('gitops_unavailable', `writing to the GitOps repository ${remote.display} failed: ${text}`);
}
