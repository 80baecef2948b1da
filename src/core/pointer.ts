/**
 * The ReleasePointer file (DESIGN.md §8): what the GitOps repository holds for one project in
 * one environment, and where. Rendering and parsing are pure; the Argo CD plugin parses with
 * the same function the writer renders with.
 *
 * Annotation values are YAML double-quoted strings in printable ASCII (`\uXXXX` beyond it), and
 * a list (aliases, approvers) is written comma-separated when that reads back unchanged, else as
 * a JSON array (issue #13 item 4: a tag may hold a comma). parsePointer reads both, and the
 * comma-separated form of pointers written before.
 */
import { projectProblem, repositoryProblem, shaProblem } from './identity.js';
import { yamlPackage } from './yaml-libraries.js';
import { needsQuotes } from './yaml-out.js';
import { readSimpleLayout } from './yaml-reread.js';

export const POINTER_API_VERSION = 'forge.projectcatalyst.io/v1alpha1';
export const POINTER_KIND = 'ReleasePointer';
const A = 'forge.projectcatalyst.io/';

export interface ReleasePointer {
  repository: string;
  project: string;
  environment: string;
  /** The release's commit sha. */
  release: string;
  /** `sha256:<hex>` of the release manifest: the plugin pulls by this digest. */
  digest: string;
  releaseNumber: number;
  aliases: string[];
  deploymentId: string;
  deployedBy: string;
  deployedAt: string;
  approvedBy: string[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `<env>/apps/<owner>/<name>/<project>/release.yaml` */
export function pointerPath(p: { environment: string; repository: string; project: string }): string {
  return `${p.environment}/apps/${p.repository}/${p.project}/release.yaml`;
}

/**
 * A plain YAML scalar when it reads back as the same string under YAML 1.1 and 1.2 (the rules
 * of src/core/yaml-out.ts: `yes`, `on`, `no`, `off` are booleans to a 1.1 reader), else
 * double-quoted.
 */
function scalar(value: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$/.test(value) && !needsQuotes(value) ? value : JSON.stringify(value);
}

/** A YAML double-quoted scalar in printable ASCII: JSON's escapes, which YAML shares, and `\uXXXX` for the rest. */
function quoted(value: string): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A list annotation: `a,b` when every item is non-empty, has no comma, no surrounding space and
 * the first does not begin with `[` (so it reads back by splitting); otherwise a JSON array.
 */
export function listAnnotation(items: string[]): string {
  const plain = items.every((i) => i !== '' && !i.includes(',') && i.trim() === i) && !items[0]?.startsWith('[');
  return plain ? items.join(',') : JSON.stringify(items);
}

/** Reads a list annotation (listAnnotation, or the older comma-separated form). */
export function parseListAnnotation(text: string): string[] {
  if (text.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(text);
      if (Array.isArray(v) && v.every((i) => typeof i === 'string')) return v;
    } catch {
      // not an array: the older comma-separated form
    }
  }
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function renderPointer(p: ReleasePointer): string {
  const annotations: [string, string][] = [
    ['release-number', String(p.releaseNumber)],
    ['aliases', listAnnotation(p.aliases)],
    ['deployment-id', p.deploymentId],
    ['deployed-by', p.deployedBy],
    ['deployed-at', p.deployedAt],
  ];
  if (p.approvedBy.length) annotations.push(['approved-by', listAnnotation(p.approvedBy)]);
  return [
    `apiVersion: ${POINTER_API_VERSION}`,
    `kind: ${POINTER_KIND}`,
    'metadata:',
    `  name: ${scalar(p.project)}`,
    '  annotations:',
    ...annotations.map(([k, v]) => `    ${A}${k}: ${quoted(v)}`),
    'spec:',
    `  repository: ${scalar(p.repository)}`,
    `  project: ${scalar(p.project)}`,
    `  environment: ${scalar(p.environment)}`,
    `  release: ${scalar(p.release)}`,
    `  digest: ${scalar(p.digest)}`,
    '',
  ].join('\n');
}

export class PointerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PointerError';
  }
}

/**
 * Parses and validates a pointer file; throws PointerError naming the field, its value and what
 * was expected. A file exactly as renderPointer writes it is read without a YAML parser: the
 * quick reading is used only when renderPointer prints it back as the same text (so that a YAML
 * parser would read the same); any other file is parsed by the `yaml` package.
 */
export function parsePointer(text: string): ReleasePointer {
  const quick = readSimpleLayout(text);
  if (quick !== undefined) {
    try {
      const pointer = pointerOf(quick);
      if (renderPointer(pointer) === text) return pointer;
    } catch {
      /* not proven: the parser below reads it, and says what is wrong */
    }
  }
  const yaml = yamlPackage();
  let doc: unknown;
  try {
    doc = yaml.parse(text);
  } catch (err) {
    throw new PointerError(`release.yaml is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return pointerOf(doc);
}

/** The pointer a parsed file holds, validated. */
function pointerOf(doc: unknown): ReleasePointer {
  const obj = (v: unknown, where: string): Record<string, unknown> => {
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    throw new PointerError(`${where} must be a mapping, got ${JSON.stringify(v) ?? 'nothing'}`);
  };
  const root = obj(doc, 'release.yaml');
  if (root.apiVersion !== POINTER_API_VERSION)
    throw new PointerError(`apiVersion is ${JSON.stringify(root.apiVersion)}; expected "${POINTER_API_VERSION}"`);
  if (root.kind !== POINTER_KIND) throw new PointerError(`kind is ${JSON.stringify(root.kind)}; expected "${POINTER_KIND}"`);
  const metadata = obj(root.metadata, 'metadata');
  const annotations = metadata.annotations === undefined ? {} : obj(metadata.annotations, 'metadata.annotations');
  const spec = obj(root.spec, 'spec');
  const str = (v: unknown, where: string, problem?: (s: string) => string | undefined): string => {
    if (typeof v !== 'string' || v === '')
      throw new PointerError(`${where} is ${JSON.stringify(v) ?? 'missing'}; expected a non-empty string`);
    const p = problem?.(v);
    if (p) throw new PointerError(`${where}: ${p}`);
    return v;
  };
  const repository = str(spec.repository, 'spec.repository', (v) =>
    v !== v.toLowerCase() ? `${quoted(v)} must be lower-case` : repositoryProblem(v),
  );
  const project = str(spec.project, 'spec.project', projectProblem);
  const environment = str(spec.environment, 'spec.environment', projectProblem);
  const release = str(spec.release, 'spec.release', (v) => (v !== v.toLowerCase() ? `${quoted(v)} must be lower-case hex` : shaProblem(v)));
  const digest = str(spec.digest, 'spec.digest', (v) =>
    DIGEST.test(v) ? undefined : `${quoted(v)} is not a manifest digest; expected sha256: and 64 lower-case hex characters`,
  );
  const note = (k: string) => (typeof annotations[A + k] === 'string' ? (annotations[A + k] as string) : '');
  const list = (k: string) => parseListAnnotation(note(k));
  const number = note('release-number');
  return {
    repository,
    project,
    environment,
    release,
    digest,
    releaseNumber: /^[1-9][0-9]*$/.test(number) ? Number(number) : 0,
    aliases: list('aliases'),
    deploymentId: note('deployment-id'),
    deployedBy: note('deployed-by'),
    deployedAt: note('deployed-at'),
    approvedBy: list('approved-by'),
  };
}
