/**
 * Reading back a document Forge's own writer printed (src/core/yaml-out.ts, the direct
 * emitter), without a general YAML parser: the Argo CD plugin's cold render reads every object of
 * a resources layer and prints it again (src/cmp/stream.ts), and a general parser was most of
 * that (issue 18, plugin cold start).
 *
 * The reader is deliberately simple: it knows only the layout `fastYaml` prints (block maps and
 * sequences indented by two, `"…"` without escapes, plain scalars, `[]`, `{}`, `|`/`|-` literal
 * blocks). Its answer is never trusted on its own: a value is returned only when `fastYaml`
 * prints it back as exactly the text read. By the emitter's contract (byte-identical to the
 * `yaml` package, test/yaml-out-fast.test.ts) that text is then this value's YAML, so any
 * YAML 1.2 core-schema reader reads the same value from it. Anything else (another writer's
 * layout, anchors, comments, duplicate keys, escapes, a misreading here) is `undefined`, and
 * the caller reads the text with a general parser. Pure.
 */
import { fastYaml, type YamlOptions } from './yaml-out.js';

class NotOwn extends Error {}

interface Line {
  indent: number;
  text: string;
}

/** A JSON number, also with the `.0` fastYaml adds before an exponent (`1.0e+308`). */
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$/;

function scalar(text: string): unknown {
  switch (text) {
    case 'null':
      return null;
    case 'true':
      return true;
    case 'false':
      return false;
    case '[]':
      return [];
    case '{}':
      return {};
  }
  if (text.charCodeAt(0) === 0x22 /* " */) {
    if (text.length >= 2 && text.indexOf('"', 1) === text.length - 1 && !text.includes('\\')) return text.slice(1, -1);
    // with escapes: JSON's are YAML's too, with the same meaning (src/core/pointer.ts writes them)
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'string') return value;
    } catch {
      /* not JSON: not this layout */
    }
    throw new NotOwn();
  }
  return NUMBER.test(text) ? Number(text) : text;
}

/** Whether `text` starts a map entry: a key (plain, or `"…"`) then `:` and a space or the line's end. */
function isMapEntry(text: string): boolean {
  if (text.charCodeAt(0) === 0x22) {
    const close = text.indexOf('"', 1);
    return close > 0 && (text.length === close + 2 ? text.endsWith(':') : text.startsWith(': ', close + 1));
  }
  return text.includes(': ') || text.endsWith(':');
}

/**
 * Nesting this deep (in columns: two per level) is not read here: the parser reads such a file
 * instead, and decides it (js-yaml refuses more than 100 levels, a few beyond this). So no input
 * can exhaust the stack, and a file is accepted or refused the same whichever path it takes.
 */
const DEEP_INDENT = 2 * 96;

class Reader {
  i = 0;
  constructor(readonly lines: Line[]) {}

  /** A map or a sequence whose lines sit at `indent`, starting at the current line. */
  collection(indent: number): unknown {
    const line = this.lines[this.i];
    if (!line || line.indent !== indent || indent >= DEEP_INDENT) throw new NotOwn();
    return line.text.startsWith('- ') ? this.sequence(indent) : this.map(indent);
  }

  /** The value after `- ` or `key: ` on the current line (`text`), whose own lines sit at `indent`. */
  value(text: string, indent: number): unknown {
    if (text.startsWith('|')) return this.block(text, indent);
    if (text.startsWith('- ') || isMapEntry(text)) {
      // a collection whose first line follows the indicator: read it as a line of its own
      this.lines[this.i] = { indent, text };
      return this.collection(indent);
    }
    this.i++;
    return scalar(text);
  }

  sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (let line = this.lines[this.i]; line && line.indent === indent && line.text.startsWith('- '); line = this.lines[this.i])
      out.push(this.value(line.text.slice(2), indent + 2));
    return out;
  }

  map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let line = this.lines[this.i]; line && line.indent === indent; line = this.lines[this.i]) {
      const { text } = line;
      let key: string;
      let rest: string;
      if (text.charCodeAt(0) === 0x22) {
        const close = text.indexOf('"', 1);
        if (close < 0) throw new NotOwn();
        key = text.slice(1, close);
        rest = text.slice(close + 1);
        if (rest !== ':' && !rest.startsWith(': ')) throw new NotOwn();
        rest = rest.slice(2);
      } else {
        const colon = text.indexOf(': ');
        if (colon >= 0) {
          key = text.slice(0, colon);
          rest = text.slice(colon + 2);
        } else if (text.endsWith(':')) {
          key = text.slice(0, -1);
          rest = '';
        } else throw new NotOwn();
      }
      // an own property named so would need defineProperty; no Kubernetes object has one
      if (key === '__proto__' || Object.hasOwn(out, key)) throw new NotOwn();
      if (rest === '') {
        this.i++;
        const next = this.lines[this.i];
        if (!next || next.indent !== indent + 2) throw new NotOwn();
        out[key] = this.collection(indent + 2);
      } else out[key] = this.value(rest, indent + 2);
    }
    return out;
  }

  /** A literal block (`|` or `|-`) whose lines sit at `indent`; empty lines are kept, as empty. */
  block(header: string, indent: number): string {
    if (header !== '|' && header !== '|-') throw new NotOwn();
    const parts: string[] = [];
    for (this.i++; this.i < this.lines.length; this.i++) {
      const line = this.lines[this.i]!;
      if (line.text === '') parts.push('');
      else if (line.indent >= indent) parts.push(' '.repeat(line.indent - indent) + line.text);
      else break;
    }
    return parts.join('\n') + (header === '|' ? '\n' : '');
  }
}

/**
 * The value of `text` when it is exactly what `fastYaml(value, opts)` prints, else undefined.
 * `text` is one document without `---`, ending with a line feed.
 */
export function rereadOwnYaml(text: string, opts: YamlOptions = {}): unknown {
  if (text === '{}\n') return {};
  const value = readSimpleLayout(text);
  return value !== undefined && fastYaml(value, opts) === text ? value : undefined;
}

/**
 * UNPROVEN: a map read from `text` in the emitter's layout (also `"…"` with JSON's escapes),
 * or undefined. The answer may be wrong for text outside that layout; a caller uses it only
 * after proving it, by printing it back as exactly `text` (rereadOwnYaml; parsePointer with
 * renderPointer).
 */
export function readSimpleLayout(text: string): Record<string, unknown> | undefined {
  if (!text.endsWith('\n')) return undefined;
  const raw = text.slice(0, -1).split('\n');
  const lines: Line[] = new Array(raw.length);
  for (let n = 0; n < raw.length; n++) {
    const l = raw[n]!;
    let indent = 0;
    while (l.charCodeAt(indent) === 0x20) indent++;
    if (indent >= DEEP_INDENT) return undefined;
    lines[n] = { indent, text: indent ? l.slice(indent) : l };
  }
  try {
    const reader = new Reader(lines);
    const value = reader.map(0);
    return reader.i === lines.length ? value : undefined;
  } catch (err) {
    if (err instanceof NotOwn) return undefined;
    throw err;
  }
}
