/**
 * Text that the API refuses wherever it appears (issue 12 item 8, issue 19 acceptance): a NUL
 * character, a lone UTF-16 surrogate (a JSON "\ud800" escape, which no UTF-8 encoder can write
 * back), nesting deeper than MAX_INPUT_DEPTH, and — checked by the caller on raw bytes —
 * invalid UTF-8 or invalid percent-encoding. Each finding names the field the way validation
 * errors do (`field`, `items[2].name`, `params.project`, `query.offset`, `headers.last-event-id`).
 * Pure.
 */
import type { FieldProblem } from './errors.js';

/** Deepest nesting of arrays and objects accepted in a request body (Kubernetes objects stay far below). */
export const MAX_INPUT_DEPTH = 64;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be accepted as text, or undefined when it can. */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate: not valid Unicode text';
  return undefined;
}

const fieldPath = (parent: string, key: string | number) =>
  typeof key === 'number'
    ? `${parent}[${key}]`
    : /^[A-Za-z_$][\w$-]*$/.test(key)
      ? parent
        ? `${parent}.${key}`
        : key
      : `${parent}[${JSON.stringify(key)}]`;

/**
 * The problems of a parsed value: every string and key is checked, and nesting is bounded.
 * Walks without recursion, so a 100,000-deep input cannot overflow the stack; stops after
 * `limit` problems.
 *
 * @param root the parsed body (or params/query object)
 * @param rootPath the name of the root ('' for a body, 'params', 'query')
 */
export function inputProblems(root: unknown, rootPath = '', limit = 20): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: rootPath, depth: 0 }];
  while (stack.length > 0 && problems.length < limit) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) problems.push({ path: path || 'body', message: problem });
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) problems.push({ path: path || 'body', message: 'is not a finite number' });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) {
      problems.push({ path: path || 'body', message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` });
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: fieldPath(path, i), depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      const keyProblem = textProblem(key);
      if (keyProblem) {
        problems.push({ path: fieldPath(path, key.replace(/[\u0000\ud800-\udfff]/g, '\ufffd')), message: `the key ${keyProblem}` });
        continue;
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: fieldPath(path, key), depth: depth + 1 });
    }
  }
  return problems;
}

/**
 * The problems of a raw query string (after "?"): each name and value must be valid
 * percent-encoding of UTF-8 text without NUL or lone surrogates. Node's own query parser
 * would silently turn invalid bytes into U+FFFD.
 */
export function rawQueryProblems(query: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      problems.push({
        path: 'query',
        message: `a parameter name is not valid percent-encoded UTF-8: ${JSON.stringify(rawName.slice(0, 64))}`,
      });
      continue;
    }
    const nameProblem = textProblem(name);
    if (nameProblem) {
      problems.push({ path: 'query', message: `a parameter name ${nameProblem}` });
      continue;
    }
    const path = `query.${name.slice(0, 64)}`;
    let value: string;
    try {
      value = decodeURIComponent(rawValue.replaceAll('+', ' '));
    } catch {
      problems.push({ path, message: 'is not valid percent-encoded UTF-8' });
      continue;
    }
    const valueProblem = textProblem(value);
    if (valueProblem) problems.push({ path, message: valueProblem });
  }
  return problems;
}

/**
 * The problems of a raw path (before "?"): each segment must be valid percent-encoded UTF-8
 * text. `pattern` is the matched route (`/api/v1/releases/:repository/...`): a segment under a
 * parameter is named `params.<name>`, any other `path`.
 */
export function rawPathProblems(path: string, pattern?: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const names = pattern?.split('/') ?? [];
  path.split('/').forEach((segment, i) => {
    const name = names[i]?.startsWith(':') ? `params.${names[i].slice(1)}` : names[i] === '*' || names.at(-1) === '*' ? 'params.*' : 'path';
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      problems.push({ path: name, message: `the segment ${JSON.stringify(segment.slice(0, 64))} is not valid percent-encoded UTF-8` });
      return;
    }
    const problem = textProblem(decoded);
    if (problem) problems.push({ path: name, message: `the segment ${JSON.stringify(segment.slice(0, 64))} ${problem}` });
  });
  return problems;
}
