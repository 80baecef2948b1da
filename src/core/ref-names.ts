/**
 * Git's reference-name rules (`git check-ref-format`, git-check-ref-format(1)), as a pure
 * function: every branch and tag name Forge accepts from a pipeline is a name git itself could
 * hold (issue #13 item 4, issue #12 item 9). A refused name is a 400 naming the field.
 */

/**
 * Why `name` cannot be a branch or tag name, or undefined when git would accept it as
 * `refs/heads/<name>` / `refs/tags/<name>` (check-ref-format rules 1–10, plus the leading `-`
 * and lone `@`, `HEAD` that `git branch`/`git tag` refuse on top). Besides git's rules, a name
 * must be valid Unicode (no lone surrogate: it could not be written as UTF-8) and at most 1024
 * characters long.
 */
export function refNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > 1024) return 'is longer than 1024 characters';
  if (name.startsWith('-')) return 'begins with "-"';
  if (name === '@') return 'is the single character "@"';
  if (name === 'HEAD') return 'is "HEAD"';
  if (name.startsWith('/') || name.endsWith('/')) return 'begins or ends with "/"';
  if (name.includes('//')) return 'contains "//"';
  if (name.endsWith('.')) return 'ends with "."';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) return 'is not valid Unicode (a lone surrogate)';
    if (c < 0x20 || c === 0x7f) return `contains the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    if (' ~^:?*[\\'.includes(ch)) return `contains ${JSON.stringify(ch)}`;
  }
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return `has a component beginning with "." ("${part}")`;
    if (part.endsWith('.lock')) return `has a component ending with ".lock" ("${part}")`;
  }
  return undefined;
}

/** Whether git would accept `name` as a branch or tag name (see refNameProblem). */
export function isValidRefName(name: string): boolean {
  return refNameProblem(name) === undefined;
}
