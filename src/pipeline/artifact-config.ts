/**
 * A project's `artifacts` block (DESIGN.md §4) read from the exported CUE, and the outputs an
 * artifact offers to `@artifact(...)` references: `uri`/`digest` of the primary publisher, the
 * producer's outputs (digest, size, media_type), and `publishers.<name>.<field>`.
 */
import { type FieldProblem, validationError } from '../core/errors.js';

export type ArtifactType = 'container' | 'binary' | 'archive';

export type Producer =
  | { kind: 'command'; run: string; output: string }
  | { kind: 'archive'; path: string }
  | { kind: 'oci-layout'; path: string };

export type Publisher =
  | { name: string; kind: 'oci'; repository: string; tag?: string; primary: boolean }
  | { name: string; kind: 'external'; uri: string; digest?: string; primary: boolean };

export interface ArtifactConfig {
  name: string;
  type: ArtifactType;
  producer?: Producer;
  publishers: Publisher[];
  /** Paths the artifact is built from besides the project directory (change detection; relative to the project, `/` = repository root). */
  inputs?: string[];
}

/** What a producer made: the bytes the publishers push. */
export interface ProducerOutputs {
  digest: string;
  size: number;
  media_type: string;
}

export type PublisherOutputs =
  | { uri: string; registry: string; repository: string; tag: string; digest: string }
  | { uri: string; digest?: string };

export type ArtifactOutputs = {
  uri?: string;
  digest?: string;
  size?: number;
  media_type?: string;
  publishers: Record<string, PublisherOutputs>;
};

const TYPES = new Set(['container', 'binary', 'archive']);

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function parseArtifacts(input: unknown, path = 'artifacts'): ArtifactConfig[] {
  if (input === undefined) return [];
  const problems: FieldProblem[] = [];
  if (!isMap(input)) throw validationError([{ path, message: 'expected a map of artifact name to {type, producer?, publishers}' }]);
  const out: ArtifactConfig[] = [];
  for (const [name, raw] of Object.entries(input)) {
    const at = `${path}."${name}"`;
    if (!/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(name))
      problems.push({ path: at, message: 'artifact names are lower-case letters, digits, ".", "_" and "-"' });
    if (!isMap(raw)) {
      problems.push({ path: at, message: 'expected {type, producer?, publishers}' });
      continue;
    }
    const type = raw.type;
    if (typeof type !== 'string' || !TYPES.has(type))
      problems.push({ path: `${at}.type`, message: `expected "container", "binary" or "archive", got ${JSON.stringify(type)}` });
    let producer: Producer | undefined;
    if (raw.producer !== undefined) {
      const p = raw.producer;
      const keys = isMap(p) ? Object.keys(p) : [];
      const one = keys.length === 1 ? keys[0] : undefined;
      const v = one && isMap(p) ? p[one] : undefined;
      if (one === 'command' && isMap(v) && typeof v.run === 'string' && typeof v.output === 'string')
        producer = { kind: 'command', run: v.run, output: v.output };
      else if (one === 'archive' && isMap(v) && typeof v.path === 'string') producer = { kind: 'archive', path: v.path };
      else if (one === 'oci-layout' && isMap(v) && typeof v.path === 'string') producer = { kind: 'oci-layout', path: v.path };
      else
        problems.push({
          path: `${at}.producer`,
          message: 'expected exactly one of command: {run, output}, archive: {path}, "oci-layout": {path}',
        });
    }
    const publishers: Publisher[] = [];
    const pubs = raw.publishers ?? {};
    if (!isMap(pubs))
      problems.push({ path: `${at}.publishers`, message: 'expected a map of publisher name to {oci: {...}} or {external: {...}}' });
    else {
      for (const [pname, praw] of Object.entries(pubs)) {
        const pat = `${at}.publishers.${pname}`;
        const primary = isMap(praw) && praw.primary === true;
        const kinds = isMap(praw) ? Object.keys(praw).filter((k) => k !== 'primary') : [];
        const v = kinds.length === 1 && isMap(praw) ? praw[kinds[0]] : undefined;
        if (kinds[0] === 'oci' && isMap(v) && typeof v.repository === 'string' && (v.tag === undefined || typeof v.tag === 'string')) {
          publishers.push({ name: pname, kind: 'oci', repository: v.repository, ...(v.tag ? { tag: v.tag } : {}), primary });
        } else if (
          kinds[0] === 'external' &&
          isMap(v) &&
          typeof v.uri === 'string' &&
          (v.digest === undefined || typeof v.digest === 'string')
        ) {
          publishers.push({ name: pname, kind: 'external', uri: v.uri, ...(v.digest ? { digest: v.digest } : {}), primary });
        } else {
          problems.push({
            path: pat,
            message: 'expected oci: {repository, tag?} or external: {uri, digest?} (and optionally primary: true)',
          });
        }
      }
      if (publishers.filter((p) => p.primary).length > 1)
        problems.push({ path: `${at}.publishers`, message: 'at most one publisher may say primary: true' });
    }
    if (!producer && publishers.some((p) => p.kind === 'oci')) {
      problems.push({
        path: `${at}.producer`,
        message: 'an oci publisher pushes what a producer made: add producer: command, archive or "oci-layout"',
      });
    }
    const inputs = raw.inputs;
    if (inputs !== undefined && !(Array.isArray(inputs) && inputs.every((i) => typeof i === 'string' && i !== '')))
      problems.push({
        path: `${at}.inputs`,
        message: 'expected a list of paths (relative to the project directory, "/" = repository root)',
      });
    out.push({
      name,
      type: type as ArtifactType,
      ...(producer ? { producer } : {}),
      publishers,
      ...(Array.isArray(inputs) && inputs.length ? { inputs: inputs as string[] } : {}),
    });
  }
  if (problems.length) throw validationError(problems);
  return out;
}

export function primaryPublisher(a: ArtifactConfig): Publisher | undefined {
  return a.publishers.find((p) => p.primary) ?? a.publishers[0];
}

/** Combines what was built and published into the fields `@artifact(...)` can reach. */
export function artifactOutputs(
  a: ArtifactConfig,
  produced: ProducerOutputs | undefined,
  published: Record<string, PublisherOutputs>,
): ArtifactOutputs {
  const primary = primaryPublisher(a);
  const p = primary ? published[primary.name] : undefined;
  return {
    ...(p ? { uri: p.uri } : {}),
    ...produced,
    ...(p?.digest ? { digest: p.digest } : {}),
    publishers: published,
  };
}

const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`;

/**
 * The stand-in for a reference when nothing is built (`forge render`, `forge validate`, and the
 * first evaluation of `forge release create`, which reads the artifacts block itself): a value
 * of the type the field will have, the same for every evaluation, so one evaluation suffices.
 */
export function placeholderValue(artifact: string, path: string[]): string | number {
  switch (path[path.length - 1]) {
    case 'size':
      return 0;
    case 'digest':
      return ZERO_DIGEST;
    case 'uri':
      return `placeholder.invalid/${artifact}@${ZERO_DIGEST}`;
    case 'registry':
      return 'placeholder.invalid';
    case 'repository':
      return `placeholder/${artifact}`;
    case 'tag':
      return 'placeholder';
    case 'media_type':
      return 'application/octet-stream';
    default:
      return 'placeholder';
  }
}

/** The fields a build of `a` will offer: placeholders, except what the configuration already says (external publishers). */
export function placeholderOutputs(a: ArtifactConfig): ArtifactOutputs {
  const v = (...path: string[]) => placeholderValue(a.name, path);
  const produced = a.producer
    ? { digest: v('digest') as string, size: v('size') as number, media_type: v('media_type') as string }
    : undefined;
  const published: Record<string, PublisherOutputs> = {};
  for (const p of a.publishers) {
    const f = (field: string) => v('publishers', p.name, field) as string;
    published[p.name] =
      p.kind === 'oci'
        ? { uri: f('uri'), registry: f('registry'), repository: f('repository'), tag: f('tag'), digest: f('digest') }
        : { uri: p.uri, ...(p.digest ? { digest: p.digest } : {}) };
  }
  return artifactOutputs(a, produced, published);
}

/** `registry.example.com:5000/acme/api` → registry `registry.example.com:5000`, path `acme/api`. */
export function splitRepository(repository: string): { registry: string; path: string } {
  const i = repository.indexOf('/');
  if (i < 0) return { registry: 'docker.io', path: `library/${repository}` };
  const head = repository.slice(0, i);
  if (head.includes('.') || head.includes(':') || head === 'localhost') return { registry: head, path: repository.slice(i + 1) };
  return { registry: 'docker.io', path: repository };
}
