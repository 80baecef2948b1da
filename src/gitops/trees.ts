/**
 * Tree editing without a work tree or an index: read the few trees on the paths being
 * changed (`git cat-file --batch`), replace entries, compute the new trees' ids here and write
 * them with one `git mktree --batch`. The cost depends on the depth of the changed paths, not
 * on how many files the repository holds.
 */
import { createHash } from 'node:crypto';
import type { Git } from './git.js';

export type ObjectFormat = 'sha1' | 'sha256';

interface Entry {
  mode: string;
  oid: string;
}
type Tree = Map<string, Entry>;

const typeOfMode = (mode: string) => (mode === '40000' ? 'tree' : mode === '160000' ? 'commit' : 'blob');

/** Parses the binary body of a tree object. */
function parseTree(body: Buffer, oidBytes: number): Tree {
  const tree: Tree = new Map();
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    const nul = body.indexOf(0, space);
    tree.set(body.toString('utf8', space + 1, nul), {
      mode: body.toString('latin1', i, space),
      oid: body.toString('hex', nul + 1, nul + 1 + oidBytes),
    });
    i = nul + 1 + oidBytes;
  }
  return tree;
}

/** Git's tree order: byte order of names, a tree's name compared as if it ended in "/". */
function sortedEntries(tree: Tree): [string, Entry][] {
  const key = ([name, e]: [string, Entry]) => Buffer.from(e.mode === '40000' ? `${name}/` : name);
  return [...tree].sort((a, b) => Buffer.compare(key(a), key(b)));
}

function treeId(tree: Tree, format: ObjectFormat): string {
  const body = Buffer.concat(
    sortedEntries(tree).map(([name, e]) => Buffer.concat([Buffer.from(`${e.mode} ${name}\0`), Buffer.from(e.oid, 'hex')])),
  );
  return createHash(format).update(`tree ${body.length}\0`).update(body).digest('hex');
}

/** Reads several objects in one process; null for each that does not exist. */
async function readObjects(git: Git, specs: string[]): Promise<({ type: string; body: Buffer } | null)[]> {
  const out = (await git.run(['cat-file', '--batch'], { input: specs.map((s) => `${s}\n`).join('') })).stdout;
  const result: ({ type: string; body: Buffer } | null)[] = [];
  let i = 0;
  for (let n = 0; n < specs.length; n++) {
    const eol = out.indexOf(0x0a, i);
    const header = out.toString('utf8', i, eol);
    i = eol + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
      result.push(null);
      continue;
    }
    const [, type, size] = header.split(' ');
    result.push({ type, body: out.subarray(i, i + Number(size)) });
    i += Number(size) + 1;
  }
  return result;
}

/**
 * The root tree of `base` (a commit, or null for an empty repository) with `files` (path → blob
 * id, mode 100644; or null: delete the file) applied. A directory a deletion leaves empty is
 * removed too (git holds no empty directories). Writes the new trees and returns the root
 * tree's id (empty when nothing changes), and which of the paths already held exactly that
 * blob, or were already absent.
 */
export async function editTree(
  git: Git,
  format: ObjectFormat,
  base: string | null,
  files: Map<string, string | null>,
): Promise<{ tree: string; unchanged: Set<string> }> {
  const dirs = new Set<string>(['']);
  for (const path of files.keys()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const dirList = [...dirs];
  const objects = base
    ? await readObjects(
        git,
        dirList.map((d) => (d === '' ? `${base}^{tree}` : `${base}:${d}`)),
      )
    : dirList.map(() => null);
  const oidBytes = format === 'sha1' ? 20 : 32;
  const trees = new Map<string, Tree>();
  dirList.forEach((d, i) => {
    const o = objects[i];
    if (o && o.type !== 'tree') throw new Error(`cannot write under "${d}": it is a ${o.type} in the GitOps repository, not a directory`);
    trees.set(d, o ? parseTree(o.body, oidBytes) : new Map());
  });
  const unchanged = new Set<string>();
  for (const [path, oid] of files) {
    const slash = path.lastIndexOf('/');
    const dir = trees.get(path.slice(0, Math.max(slash, 0)))!;
    const existing = dir.get(path.slice(slash + 1));
    if (existing && existing.mode === '40000') throw new Error(`cannot write "${path}": it is a directory in the GitOps repository`);
    if (oid === null) {
      if (!existing) unchanged.add(path);
      else dir.delete(path.slice(slash + 1));
      continue;
    }
    if (existing?.oid === oid && existing.mode === '100644') unchanged.add(path);
    dir.set(path.slice(slash + 1), { mode: '100644', oid });
  }
  if (unchanged.size === files.size) return { tree: '', unchanged };
  // Deepest first, so each parent sees its children's new ids.
  const depth = (d: string) => (d === '' ? 0 : d.split('/').length);
  const order = [...dirList].sort((a, b) => depth(b) - depth(a));
  const ids = new Map<string, string>();
  const written: string[] = [];
  for (const d of order) {
    const tree = trees.get(d)!;
    const slash = d.lastIndexOf('/');
    const parent = d === '' ? undefined : trees.get(slash < 0 ? '' : d.slice(0, slash))!;
    if (parent && tree.size === 0) {
      parent.delete(d.slice(slash + 1)); // emptied by deletions: the directory goes too
      continue;
    }
    const id = treeId(tree, format);
    ids.set(d, id);
    written.push(d);
    parent?.set(d.slice(slash + 1), { mode: '40000', oid: id });
  }
  const input = written
    .map(
      (d) =>
        sortedEntries(trees.get(d)!)
          .map(([name, e]) => `${e.mode.padStart(6, '0')} ${typeOfMode(e.mode)} ${e.oid}\t${name}\0`)
          .join('') + '\0',
    )
    .join('');
  const made = (await git.run(['mktree', '-z', '--batch'], { input })).stdout.toString('utf8').trim().split('\n');
  const root = ids.get('')!;
  if (made[made.length - 1] !== root) throw new Error(`git mktree wrote tree ${made[made.length - 1]}, expected ${root}`);
  return { tree: root, unchanged };
}
