/**
 * The `@artifact("<artifact>.<field path>")` pre-pass (DESIGN.md §4). The spec's reference
 * syntax is not valid CUE on its own, so before the CUE engine sees a project file every
 * reference is replaced by the resolved value as a CUE literal:
 *
 * - in value position (`image: @artifact("api.uri")`) by the literal itself;
 * - as the attribute of a field whose value is a type (`digest: string @artifact("api.digest")`)
 *   by `& <literal>`, so the field reads `string & "sha256:..."`.
 *
 * The scanner knows CUE's strings (single/double quoted, multi-line, `#` raw strings) and
 * `//` comments and leaves references inside them alone. Every line stays where it was, so the
 * engine's error positions still point into the user's file. Pure: no I/O.
 */
import { ForgeError } from './errors.js';

export interface ArtifactRef {
  /** The text between the quotes: `api-server.uri`. */
  ref: string;
  artifact: string;
  /** `["publishers", "registry", "uri"]` */
  path: string[];
  line: number; // 1-based
  column: number; // 1-based, of the `@`
  /** `value`: stands for the field's value; `attribute`: follows a value and constrains it. */
  position: 'value' | 'attribute';
  start: number; // offset of `@`
  end: number; // offset after `)`
}

export type ArtifactValue = string | number | boolean;

const IDENT_START = /[A-Za-z_$#]/;
const IDENT_PART = /[A-Za-z0-9_$#]/;
/** Tokens after which an expression is expected: an `@artifact` there stands for a value. */
const VALUE_CONTEXT = new Set([':', '[', ',', '(', '&', '|', '=', '{', '!', '+', '-', '*', '/', '<', '>', '?', '']);

function location(src: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offset just after the string literal starting at `i` (`"`, `'`, their multi-line forms, and
 * `#` raw strings). The code inside interpolations (`\(...)`) is scanned for references too.
 */
function skipString(src: string, i: number, file: string, refs: ArtifactRef[]): number {
  const begin = i;
  let hashes = 0;
  while (src[i] === '#') {
    hashes++;
    i++;
  }
  const q = src[i];
  const multi = src.startsWith(q.repeat(3), i);
  const open = multi ? q.repeat(3) : q;
  const close = open + '#'.repeat(hashes);
  const escape = '\\' + '#'.repeat(hashes);
  let j = i + open.length;
  while (j < src.length) {
    if (src.startsWith(escape, j)) {
      j += escape.length;
      j = src[j] === '(' ? scanCode(src, j + 1, file, refs, true) + 1 : j + 1;
      continue;
    }
    if (src.startsWith(close, j)) return j + close.length;
    if (!multi && src[j] === '\n') break;
    j++;
  }
  const { line, column } = location(src, begin);
  throw new ForgeError('validation_error', `${file}:${line}:${column}: unterminated string literal`, { file, line, column });
}

/**
 * Scans CUE code from `i`, collecting references. Nested (inside an interpolation) it stops at
 * the `)` that closes it and returns its offset; otherwise it runs to the end.
 */
function scanCode(src: string, i: number, file: string, refs: ArtifactRef[], nested: boolean): number {
  let prev = ''; // the last significant token, or its first character for punctuation
  let depth = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    if (c === '"' || c === "'" || (c === '#' && /^#+["']/.test(src.slice(i, i + 8)))) {
      i = skipString(src, i, file, refs);
      prev = 'literal';
      continue;
    }
    if (c === '@' && src.startsWith('@artifact', i) && !IDENT_PART.test(src[i + 9] ?? '')) {
      const ref = parseRef(src, i, file, VALUE_CONTEXT.has(prev) ? 'value' : 'attribute');
      refs.push(ref);
      i = ref.end;
      prev = 'literal';
      continue;
    }
    if (IDENT_START.test(c) || /[0-9]/.test(c)) {
      while (i < src.length && (IDENT_PART.test(src[i]) || src[i] === '.')) i++;
      prev = 'ident';
      continue;
    }
    if (nested && c === '(') depth++;
    if (nested && c === ')' && depth-- === 0) return i;
    prev = c;
    i++;
  }
  if (nested) {
    const { line, column } = location(src, i);
    throw new ForgeError('validation_error', `${file}:${line}:${column}: unterminated string interpolation`, { file, line, column });
  }
  return i;
}

/** Finds every `@artifact(...)` outside strings and comments. Malformed references fail with file:line:column. */
export function findArtifactRefs(src: string, file: string): ArtifactRef[] {
  const refs: ArtifactRef[] = [];
  scanCode(src, 0, file, refs, false);
  return refs.sort((a, b) => a.start - b.start);
}

function parseRef(src: string, at: number, file: string, position: ArtifactRef['position']): ArtifactRef {
  const { line, column } = location(src, at);
  const fail = (what: string): never => {
    throw new ForgeError('validation_error', `${file}:${line}:${column}: ${what}; expected @artifact("<artifact>.<field>")`, {
      file,
      line,
      column,
    });
  };
  const m = /^@artifact\(\s*"([^"\\\n]*)"\s*\)/.exec(src.slice(at, at + 1000));
  if (!m) fail('malformed @artifact reference');
  const ref = m![1];
  const parts = ref.split('.');
  if (parts.length < 2 || parts.some((p) => p === '')) fail(`"${ref}" does not name an artifact and a field`);
  return { ref, artifact: parts[0], path: parts.slice(1), line, column, position, start: at, end: at + m![0].length };
}

/** A value as a CUE literal on one line: JSON strings and numbers are valid CUE. */
function cueLiteral(v: ArtifactValue): string {
  return JSON.stringify(v);
}

/**
 * Returns `src` with every reference replaced by `resolve(ref)`. Newlines inside a reference
 * are kept after the replacement so later lines do not move.
 */
export function substituteArtifactRefs(src: string, file: string, resolve: (ref: ArtifactRef) => ArtifactValue): string {
  const refs = findArtifactRefs(src, file);
  let out = '';
  let last = 0;
  for (const r of refs) {
    const literal = cueLiteral(resolve(r));
    const newlines = src.slice(r.start, r.end).split('\n').length - 1;
    out += src.slice(last, r.start) + (r.position === 'attribute' ? `& ${literal}` : literal) + '\n'.repeat(newlines);
    last = r.end;
  }
  return out + src.slice(last);
}

/** Every field path a set of artifact outputs offers, as `a.b.c` strings, for error messages. */
export function fieldPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return prefix ? [prefix] : [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => fieldPaths(v, prefix ? `${prefix}.${k}` : k));
}

/**
 * Looks a reference up in the artifacts' outputs (`{artifactName: {uri, digest, publishers: {...}}}`).
 * An unknown artifact or field fails with the location and what exists.
 */
export function lookupArtifactRef(outputs: Record<string, unknown>, r: ArtifactRef, file: string): ArtifactValue {
  const where = `${file}:${r.line}:${r.column}`;
  if (!Object.hasOwn(outputs, r.artifact)) {
    const names = Object.keys(outputs);
    throw new ForgeError(
      'validation_error',
      `${where}: @artifact("${r.ref}") names unknown artifact "${r.artifact}"; artifacts: ${names.length ? names.join(', ') : '(none defined)'}`,
      { file, line: r.line, column: r.column, ref: r.ref, artifacts: names },
    );
  }
  let v: unknown = outputs[r.artifact];
  for (const p of r.path) {
    v = v !== null && typeof v === 'object' && Object.hasOwn(v, p) ? (v as Record<string, unknown>)[p] : undefined;
  }
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    const fields = fieldPaths(outputs[r.artifact]);
    throw new ForgeError(
      'validation_error',
      `${where}: @artifact("${r.ref}") names unknown field "${r.path.join('.')}" of artifact "${r.artifact}"; fields: ${fields.join(', ')}`,
      { file, line: r.line, column: r.column, ref: r.ref, fields },
    );
  }
  return v;
}
