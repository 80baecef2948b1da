/**
 * The one place Forge writes YAML (issue 19 item 3): the resources layer and the API's
 * manifests (src/core/release-image.ts), rendered streams (src/pipeline/render.ts), the
 * plugin's environment config and the CLI's `-o yaml`. What it writes reads back with the same
 * types and values under YAML 1.2 (the `yaml` package, Go's yaml.v3) and YAML 1.1 (libyaml,
 * PyYAML, the resolver rules behind sigs.k8s.io/yaml that Argo CD and kubectl use):
 *
 * - every string a YAML 1.1 or 1.2 reader could resolve to another type when written plain is
 *   double-quoted: booleans of either version (`yes`, `on`, `n`, `True`…), nulls (`~`, `null`,
 *   empty), anything starting with a sign, a dot, `=` or `<`, anything of digits and number
 *   characters (integers with `_`, `0o`/`0x`/`0b`, sexagesimal `1:20`, floats), dates. Over-
 *   quoting is harmless: a quoted scalar is a string under both versions;
 * - no anchors or aliases: a value used twice is written twice;
 * - no directives, no tags.
 *
 * Pure (loads the `yaml` package on first use, and only off the direct emitter's path).
 */
import { yamlPackage } from './yaml-libraries.js';

const WORDS = /^(y|n|yes|no|on|off|true|false|null)$/i;
/** Signs, dots (floats, .inf, .nan), `~`, `=` (1.1 value key), `<` (1.1 merge key `<<`). */
const LEADING = /^[-+.~=<]/;
/** What could be a number in some base of either version: digits, hex letters, `x o b _ . : e + -`. */
const NUMBERISH = /^[0-9][0-9a-fA-FxXoObB_.:+-]*$/;
/** A YAML 1.1 timestamp starts with a date. */
const TIMESTAMP = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt \t]|$)/;

/**
 * Whether a string must be quoted to stay a string under YAML 1.1 and 1.2. Deliberately
 * broader than either resolver (`1.2.3`, `12ab` are quoted too); quantities such as `128Mi`
 * or `500m` stay plain.
 */
export function needsQuotes(s: string): boolean {
  return (
    s === '' || LEADING.test(s) || WORDS.test(s) || NUMBERISH.test(s) || TIMESTAMP.test(s) || UNPRINTABLE.test(s) || BLANK_LINE.test(s)
  );
}

/** A line of only spaces: in a block scalar PyYAML reads it as an empty line (`" \n"` came back `"\n"`). */
const BLANK_LINE = /(^|\n)[ \t]+(\n|$)/;

/**
 * Characters a YAML 1.1 reader does not take as they are: C0 and C1 controls and DEL (libyaml
 * refuses them), NEL and the line and paragraph separators (line breaks in YAML 1.1: a plain
 * or quoted scalar would be folded), the byte order mark and the two noncharacters U+FFFE/FFFF.
 * A string holding one (or a tab, which PyYAML refuses inside a plain scalar) is double-quoted,
 * and each such character written as an escape.
 */
const UNPRINTABLE = /[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;
/** What the `yaml` package writes raw even inside double quotes (it escapes the C0 controls itself). */
const RAW_IN_QUOTES = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g;
const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

export interface YamlOptions {
  /** Sort map keys at every level (byte-stable output for equal values). */
  sortKeys?: boolean;
}

/**
 * Numbers a YAML 1.1 reader takes for numbers: JavaScript writes 1e308 and 1e-7 with no
 * fraction, which YAML 1.1's float pattern requires (PyYAML reads `1e+308` as a string), so a
 * mantissa without one gets `.0` (`1.0e+308`, the same number under YAML 1.2).
 */
function yaml11Numbers(tags: import('yaml').Tags): import('yaml').Tags {
  return tags.map((t) => {
    if (typeof t === 'string' || (t.tag !== 'tag:yaml.org,2002:int' && t.tag !== 'tag:yaml.org,2002:float') || t.format || !t.stringify)
      return t;
    const plain = t.stringify;
    return {
      ...t,
      stringify: (node, ctx, onComment, onChompKeep) => {
        const text = plain(node, ctx, onComment, onChompKeep);
        return /^[-+]?[0-9]+e/i.test(text) ? text.replace(/e/i, '.0e') : text;
      },
    } as typeof t;
  });
}

/** One YAML document (no leading `---`), ending with a newline. */
export function toYaml(value: unknown, opts: YamlOptions = {}): string {
  return fastYaml(value, opts) ?? libraryYaml(value, opts);
}

/** Printable ASCII, single line, no `"` or `\\`: written plain or as `"…"` with no escape. */
const SIMPLE_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** Plain under the `yaml` package's plainString: no leading indicator, no `: `, `#`, trailing space or colon. */
const PLAIN_SAFE = /^[A-Za-z0-9_/][A-Za-z0-9_./=@,:+()$ -]*$/;
const PLAIN_BAD = /: | $|:$/;

class NotFast extends Error {}

function fastScalarString(s: string): string {
  if (s.length > 512 || !SIMPLE_ASCII.test(s)) throw new NotFast();
  if (needsQuotes(s)) return `"${s}"`;
  if (PLAIN_SAFE.test(s) && !PLAIN_BAD.test(s)) return s;
  throw new NotFast();
}

/**
 * What a literal block scalar may hold here: line feeds and printable characters of the Basic
 * Multilingual Plane other than those needsQuotes escapes (C1 controls, NEL, U+2028/2029, the
 * byte order mark, U+FFFE/FFFF) and surrogates.
 */
const BLOCK_TEXT = /^[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*$/;
/** The most characters written as a block by the direct emitter (larger strings go to the library). */
const MAX_BLOCK_CHARS = 1 << 20;

/**
 * A multi-line string as the `yaml` package writes a map value or sequence item whose content
 * sits at `indent` (with `lineWidth: 0`): a literal block, `|` when the string ends with one line
 * feed (clip), `|-` when it ends with none (strip), each line indented, empty lines left empty.
 * Strings that would need more (a leading space or line feed: an indentation indicator; trailing
 * blanks or several final line feeds: keep chomping, or quotes) are left to the library.
 */
function fastBlockString(s: string, indent: string): string {
  if (s.length > MAX_BLOCK_CHARS || !BLOCK_TEXT.test(s) || needsQuotes(s)) throw new NotFast();
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  // 0x20 space, 0x0a line feed
  if (first === 0x20 || first === 0x0a || last === 0x20) throw new NotFast();
  const clip = last === 0x0a;
  if (clip && (s.charCodeAt(s.length - 2) === 0x0a || s.charCodeAt(s.length - 2) === 0x20)) throw new NotFast();
  const body = clip ? s.slice(0, -1) : s;
  return `|${clip ? '' : '-'}\n${indent}${body.replace(/\n+/g, (run) => run + indent)}`;
}

const isPlainObject = (v: object) => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** A scalar's text (a multi-line string's content at `indent`), or undefined for a collection. */
function fastScalar(v: unknown, indent: string): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return v.includes('\n') ? fastBlockString(v, indent) : fastScalarString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number': {
      if (!Number.isFinite(v) || Object.is(v, -0)) throw new NotFast();
      const text = JSON.stringify(v);
      return /^[-+]?[0-9]+e/i.test(text) ? text.replace(/e/i, '.0e') : text;
    }
    case 'object':
      if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
      if (!isPlainObject(v)) throw new NotFast();
      return Object.keys(v).length === 0 ? '{}' : undefined;
    default:
      throw new NotFast();
  }
}

/** Lines of a non-empty collection at `indent`; the first line carries no indent (the caller places it). */
function fastCollection(v: object, indent: string, sortKeys: boolean, out: string[], first: boolean): void {
  let lead = first ? '' : indent;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw new NotFast();
      const item = v[i];
      const text = fastScalar(item, `${indent}  `);
      if (text !== undefined) out.push(`${lead}- ${text}\n`);
      else {
        out.push(`${lead}- `);
        fastCollection(item as object, `${indent}  `, sortKeys, out, true);
      }
      lead = indent;
    }
    return;
  }
  const keys = Object.keys(v);
  if (sortKeys) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const item = (v as Record<string, unknown>)[key];
    const k = fastScalarString(key);
    const text = fastScalar(item, `${indent}  `);
    if (text !== undefined) out.push(`${lead}${k}: ${text}\n`);
    else if (Array.isArray(item)) {
      out.push(`${lead}${k}:\n${indent}  `);
      fastCollection(item, `${indent}  `, sortKeys, out, true);
    } else {
      out.push(`${lead}${k}:\n${indent}  `);
      fastCollection(item as object, `${indent}  `, sortKeys, out, true);
    }
    lead = indent;
  }
}

/**
 * The direct emitter: the same bytes as {@link libraryYaml} for a plain-object root whose values
 * are plain objects, arrays, finite numbers (not -0), booleans, null, strings of at most 512
 * printable ASCII characters with no `"` or `\\` that are either {@link needsQuotes} (written
 * `"…"`, no escape needed) or plain under the `yaml` package's plainString rules (a restricted
 * alphabet, no leading indicator, no `: `, `#`, trailing space or colon), and multi-line values
 * written as literal blocks (`|`, `|-`; see fastBlockString). Layout as `yaml` 2.x
 * prints with default options and `lineWidth: 0` (no folding); keys sorted with the same `<`
 * comparator as its sortMapEntries. Undefined if the value is outside that domain: the caller
 * then uses the library for the whole document. Proven by test/yaml-out-fast.test.ts.
 */
export function fastYaml(value: unknown, opts: YamlOptions = {}): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !isPlainObject(value)) return undefined;
  try {
    if (Object.keys(value).length === 0) return '{}\n';
    const out: string[] = [];
    fastCollection(value, '', opts.sortKeys ?? false, out, false);
    return out.join('');
  } catch (e) {
    if (e instanceof NotFast) return undefined;
    throw e;
  }
}

/** The `yaml`-package path: any value. */
export function libraryYaml(value: unknown, opts: YamlOptions = {}): string {
  const { Document, isScalar, visit } = yamlPackage();
  const doc = new Document(value, {
    aliasDuplicateObjects: false,
    sortMapEntries: opts.sortKeys ?? false,
    customTags: yaml11Numbers,
  });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && needsQuotes(node.value)) node.type = 'QUOTE_DOUBLE';
    },
    Pair(_key, pair) {
      if (isScalar(pair.key) && typeof pair.key.value === 'string' && needsQuotes(pair.key.value)) pair.key.type = 'QUOTE_DOUBLE';
    },
  });
  // every string holding such a character is double-quoted above: there its escape means it.
  // A double-quoted string stays on one line (`\n` escapes): the package's multi-line form
  // escapes a space twice when a line holds only a space ("a\n \nb" came back "a\n\\ \nb").
  return doc.toString({ lineWidth: 0, doubleQuotedMinMultiLineLength: Number.POSITIVE_INFINITY }).replace(RAW_IN_QUOTES, escaped);
}

/** A YAML stream: `---` before each document. */
export function toYamlStream(values: unknown[], opts: YamlOptions = {}): string {
  return values.map((v) => `---\n${toYaml(v, opts)}`).join('');
}
