/**
 * Can a branch pattern ever match? (issue 14: "an error for a pattern that cannot match".) A
 * pattern of `release.on` (`branch`: a regular expression over the whole branch name; `glob`:
 * `*` any characters, `?` one) or of forge.yaml's `allowed_branches` (a glob) that no git branch
 * name can satisfy is a configuration mistake that would otherwise fail silently: `main$x`
 * (an end anchor followed by more text), `a^b`, `release/.*\.lock`, `-*`.
 *
 * Decided exactly, not by a list of known mistakes: the pattern is compiled to a
 * nondeterministic automaton and intersected with the automaton of git's branch-name rules
 * (core/ref-names.ts); the pattern can match when some path reaches an accepting pair, and that
 * path spells a witness, which is checked again with the real RegExp and refNameProblem. The
 * characters tried are every ASCII character, a few non-ASCII ones and every character the
 * pattern mentions, which covers every class a pattern can tell apart. Constructs whose meaning
 * depends on what was matched (back-references, look-around, word boundaries) are not analysed:
 * such a pattern is taken as able to match.
 */
import { refNameProblem } from './ref-names.js';

type Node =
  | { t: 'set'; set: boolean[] }
  | { t: 'alt'; alts: Node[][] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' };

class Unsupported extends Error {}

const MAX_STATES = 5_000;

/** The characters tried: ASCII, line terminators and other non-ASCII, and whatever the pattern names. */
function alphabet(pattern: string): string[] {
  const chars = new Set<string>();
  for (let c = 0; c < 0x80; c++) chars.add(String.fromCharCode(c));
  for (const c of ['\u00e9', '\u2028', '\u2603', '\u00a0']) chars.add(c);
  for (const ch of pattern) if (ch.length === 1) chars.add(ch);
  for (const m of pattern.matchAll(/\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})/g))
    chars.add(String.fromCharCode(Number.parseInt(m[1] ?? m[2], 16)));
  return [...chars];
}

/** A parser for JavaScript regular expressions without flags (as triggers.ts compiles them). */
function parseRegex(pattern: string, chars: string[]): Node {
  let i = 0;
  const setOf = (source: string): Node => {
    const re = new RegExp(`^(?:${source})$`);
    return { t: 'set', set: chars.map((c) => re.test(c)) };
  };
  const alt = (): Node => {
    const alts: Node[][] = [seq()];
    while (pattern[i] === '|') {
      i++;
      alts.push(seq());
    }
    return { t: 'alt', alts };
  };
  const seq = (): Node[] => {
    const nodes: Node[] = [];
    while (i < pattern.length && pattern[i] !== '|' && pattern[i] !== ')') {
      let node = atom();
      for (;;) {
        const q = quantifier();
        if (!q) break;
        node = { t: 'rep', node, ...q };
      }
      nodes.push(node);
    }
    return nodes;
  };
  const quantifier = (): { min: number; max: number } | undefined => {
    const c = pattern[i];
    let q: { min: number; max: number } | undefined;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!m) return undefined;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (min > 1000 || (max !== Infinity && max > 1000)) throw new Unsupported('a repeat count above 1000');
      i += m[0].length - 1;
      q = { min, max };
    }
    if (!q) return undefined;
    i++;
    if (pattern[i] === '?') i++; // lazy: the same strings
    return q;
  };
  const atom = (): Node => {
    const c = pattern[i];
    if (c === '(') {
      i++;
      if (pattern[i] === '?') {
        if (pattern[i + 1] === ':') i += 2;
        else if (pattern[i + 1] === '<' && pattern[i + 2] !== '=' && pattern[i + 2] !== '!') i = pattern.indexOf('>', i) + 1;
        else throw new Unsupported('look-around');
      }
      const inner = alt();
      i++; // ')'
      return inner;
    }
    if (c === '[') {
      const start = i;
      i++;
      if (pattern[i] === '^') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
      return setOf(pattern.slice(start, i));
    }
    if (c === '\\') {
      const e = pattern[i + 1];
      if (/[1-9bBk]/.test(e)) throw new Unsupported('a back-reference or word boundary');
      const len = e === 'x' ? 4 : e === 'u' ? 6 : e === 'c' ? 3 : 2;
      const source = pattern.slice(i, i + len);
      i += len;
      return setOf(source);
    }
    if (c === '^') {
      i++;
      return { t: 'bol' };
    }
    if (c === '$') {
      i++;
      return { t: 'eol' };
    }
    if (c === '.') {
      i++;
      return setOf('.');
    }
    i++;
    return { t: 'set', set: chars.map((x) => x === c) };
  };
  const node = alt();
  if (i < pattern.length) throw new Unsupported('unparsed input');
  return node;
}

/** A glob: `*` any run of characters (including `/`), `?` exactly one, anything else itself. */
function parseGlob(pattern: string, chars: string[]): Node {
  const any: Node = { t: 'set', set: chars.map(() => true) };
  const nodes: Node[] = [...pattern].map((c) =>
    c === '*' ? { t: 'rep', node: any, min: 0, max: Infinity } : c === '?' ? any : { t: 'set', set: chars.map((x) => x === c) },
  );
  return { t: 'alt', alts: [nodes] };
}

type Edge = { to: number } & ({ kind: 'eps' } | { kind: 'bol' } | { kind: 'eol' } | { kind: 'set'; set: boolean[] });

/** Thompson's construction: state 0 is the start; returns the edges and the final state. */
function compile(root: Node): { edges: Edge[][]; final: number } {
  const edges: Edge[][] = [[]];
  const state = () => {
    if (edges.length >= MAX_STATES) throw new Unsupported('too large');
    edges.push([]);
    return edges.length - 1;
  };
  const build = (node: Node, from: number): number => {
    if (node.t === 'alt') {
      const end = state();
      for (const s of node.alts) {
        let at = state();
        edges[from].push({ kind: 'eps', to: at });
        for (const n of s) at = build(n, at);
        edges[at].push({ kind: 'eps', to: end });
      }
      return end;
    }
    if (node.t === 'rep') {
      let at = from;
      for (let k = 0; k < node.min; k++) at = build(node.node, at);
      if (node.max === Infinity) {
        const loop = state();
        edges[at].push({ kind: 'eps', to: loop });
        edges[build(node.node, loop)].push({ kind: 'eps', to: loop });
        return loop;
      }
      const exit = state();
      edges[at].push({ kind: 'eps', to: exit });
      for (let k = node.min; k < node.max; k++) {
        at = build(node.node, at);
        edges[at].push({ kind: 'eps', to: exit });
      }
      return exit;
    }
    const to = state();
    edges[from].push(node.t === 'set' ? { kind: 'set', set: node.set, to } : { kind: node.t, to });
    return to;
  };
  const final = build(root, 0);
  return { edges, final };
}

/**
 * Git's branch-name rules as a small automaton over what matters of the name so far: the last
 * character's kind (S: nothing yet, `/`, `.`, `@`, o: other), how much of ".lock" the current
 * component ends with (0–5), and whether the name is just "@". Undefined: no valid name continues.
 */
interface RefState {
  prev: 'S' | '/' | '.' | '@' | 'o';
  lock: number;
  at: boolean;
}
const FORBIDDEN = ' ~^:?*[\\';

function refStep(g: RefState, ch: string): RefState | undefined {
  const code = ch.charCodeAt(0);
  if (code < 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff) || FORBIDDEN.includes(ch)) return undefined;
  const componentStart = g.prev === 'S' || g.prev === '/';
  if (g.prev === 'S' && ch === '-') return undefined;
  if (ch === '/') return componentStart || g.lock === 5 ? undefined : { prev: '/', lock: 0, at: false };
  if (ch === '.') return componentStart || g.prev === '.' ? undefined : { prev: '.', lock: 1, at: false };
  if (ch === '{' && g.prev === '@') return undefined;
  const lock = g.lock >= 1 && g.lock <= 4 && ch === 'lock'[g.lock - 1] ? g.lock + 1 : 0;
  return { prev: ch === '@' ? '@' : 'o', lock, at: g.prev === 'S' && ch === '@' };
}

const refAccepts = (g: RefState) => g.prev !== 'S' && g.prev !== '/' && g.prev !== '.' && g.lock !== 5 && !g.at;

/** Any string at all: the same search without git's rules. */
const anyStep = (_g: RefState, ch: string): RefState => ({ prev: ch === '' ? 'S' : 'o', lock: 0, at: false });

/** A shortest string the automaton accepts under `step`/`accepts`, or undefined when there is none. */
function witness(
  nfa: { edges: Edge[][]; final: number },
  chars: string[],
  step: (g: RefState, ch: string) => RefState | undefined,
  accepts: (g: RefState) => boolean,
): string | undefined {
  type Item = { s: number; g: RefState; ended: boolean; text: string };
  const key = (x: Item) => `${x.s}|${x.g.prev}${x.g.lock}${x.g.at ? 1 : 0}|${x.ended ? 1 : 0}`;
  const start: Item = { s: 0, g: { prev: 'S', lock: 0, at: false }, ended: false, text: '' };
  const seen = new Set([key(start)]);
  // Breadth-first by the witness's length: each round closes the frontier under the moves that
  // read nothing (ε, anchors), then reads one character.
  let frontier: Item[] = [start];
  while (frontier.length) {
    const closed: Item[] = [];
    const stack = [...frontier];
    while (stack.length) {
      const x = stack.pop()!;
      closed.push(x);
      if (x.s === nfa.final && accepts(x.g)) return x.text;
      for (const e of nfa.edges[x.s]) {
        let n: Item | undefined;
        if (e.kind === 'eps') n = { ...x, s: e.to };
        else if (e.kind === 'bol') n = x.g.prev === 'S' ? { ...x, s: e.to } : undefined;
        else if (e.kind === 'eol') n = { ...x, s: e.to, ended: true };
        if (n && !seen.has(key(n))) {
          seen.add(key(n));
          stack.push(n);
        }
      }
    }
    const next: Item[] = [];
    for (const x of closed) {
      if (x.ended) continue;
      for (const e of nfa.edges[x.s]) {
        if (e.kind !== 'set') continue;
        for (let k = 0; k < chars.length; k++) {
          if (!e.set[k]) continue;
          const g = step(x.g, chars[k]);
          if (!g) continue;
          const n: Item = { s: e.to, g, ended: false, text: x.text + chars[k] };
          const nk = key(n);
          if (seen.has(nk)) continue;
          seen.add(nk);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  return undefined;
}

/**
 * One character of each class no edge of the automaton and no rule of git tells apart (every
 * letter a pattern does not name behaves alike): the search reads a dozen characters, not 130.
 */
function representatives(nfa: { edges: Edge[][]; final: number }, chars: string[]) {
  const sets = nfa.edges.flat().flatMap((e) => (e.kind === 'set' ? [e.set] : []));
  const kind = (ch: string) =>
    FORBIDDEN.includes(ch) || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? '!' : './@{-lock'.includes(ch) ? ch : 'o';
  const keep: number[] = [];
  const seen = new Set<string>();
  chars.forEach((ch, k) => {
    const sig = kind(ch) + sets.map((set) => (set[k] ? 1 : 0)).join('');
    if (!seen.has(sig)) {
      seen.add(sig);
      keep.push(k);
    }
  });
  const edges = nfa.edges.map((list) => list.map((e) => (e.kind === 'set' ? { ...e, set: keep.map((k) => e.set[k]) } : e)));
  return { nfa: { edges, final: nfa.final }, chars: keep.map((k) => chars[k]) };
}

const GIT_RULES =
  'git branch names have no space, control character, ~ ^ : ? * [ or \\, no "..", "//" or "@{", no component starting with "." or ending with ".lock", and do not start with "-" or "/" nor end with "/" or "."';

/**
 * Why no git branch name can match `pattern` (a phrase to follow "it": "it matches no text at
 * all…"), or undefined when one can (or the pattern uses a
 * construct this analysis leaves alone). `kind` is `regex` (matched against the whole name, as
 * `{branch: …}` is) or `glob` (`*`, `?`). The pattern must already be a valid regular expression.
 */
export function neverMatchesProblem(kind: 'regex' | 'glob', pattern: string): string | undefined {
  const chars = alphabet(pattern);
  let nfa: { edges: Edge[][]; final: number };
  try {
    nfa = compile(kind === 'regex' ? parseRegex(pattern, chars) : parseGlob(pattern, chars));
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
  const reduced = representatives(nfa, chars);
  const found = witness(reduced.nfa, reduced.chars, refStep, refAccepts);
  if (found !== undefined) return undefined;
  const anything = witness(reduced.nfa, reduced.chars, anyStep, () => true);
  if (anything === undefined) {
    return kind === 'regex'
      ? 'matches no text at all: a "^" after the start or a "$" before the end can never hold (Forge already matches the whole branch name, so leave anchors out)'
      : 'matches no text at all';
  }
  const why = refNameProblem(anything);
  return `matches only names git refuses for a branch (such as ${JSON.stringify(anything)}, which ${why ?? 'git refuses'}; ${GIT_RULES})`;
}
