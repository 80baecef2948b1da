/** Release identity (DESIGN.md §2): repository, project, commit sha, and the names derived from them. */
import { type FieldProblem, validationError } from './errors.js';

const SEGMENT = /^[a-z0-9]+([._-][a-z0-9]+)*$/;
const PROJECT = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

export interface ReleaseIdentity {
  repository: string; // owner/name
  project: string;
  sha: string;
}

export function repositoryProblem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'expected a string "<owner>/<name>"';
  const parts = input.toLowerCase().split('/');
  if (parts.length !== 2) return `expected exactly two segments "<owner>/<name>", got "${input}"`;
  for (const p of parts) {
    if (p.length > 100) return `segment "${p}" is longer than 100 characters`;
    if (!SEGMENT.test(p)) return `segment "${p}" must match [a-z0-9]+([._-][a-z0-9]+)*`;
  }
  return undefined;
}

export function projectProblem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'expected a string (a DNS label)';
  if (!PROJECT.test(input))
    return `"${input}" is not a DNS label (lower-case letters, digits and "-", 1-63 characters, starting and ending alphanumeric)`;
  return undefined;
}

export function shaProblem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'expected a string of 40 or 64 hex characters';
  if (!SHA.test(input.toLowerCase())) return `"${input}" is not a full commit sha (40 or 64 hex characters)`;
  return undefined;
}

/** Validates and normalises (lower-cases) an identity; throws a validation_error naming every bad field. */
export function parseIdentity(
  input: { repository: unknown; project: unknown; sha: unknown },
  paths = { repository: 'repository', project: 'project', sha: 'commit.sha' },
): ReleaseIdentity {
  const problems: FieldProblem[] = [];
  const check = (field: keyof typeof paths, problem: string | undefined) => {
    if (problem) problems.push({ path: paths[field], message: problem });
  };
  check('repository', repositoryProblem(input.repository));
  check('project', projectProblem(input.project));
  check('sha', shaProblem(input.sha));
  if (problems.length) throw validationError(problems);
  return {
    repository: (input.repository as string).toLowerCase(),
    project: input.project as string,
    sha: (input.sha as string).toLowerCase(),
  };
}

export function canonicalId(id: ReleaseIdentity): string {
  return `${id.repository}/${id.project}/${id.sha}`;
}

/** The repository path of a release inside a registry: `<owner>/<name>/<project>`. */
export function imageRepository(id: Pick<ReleaseIdentity, 'repository' | 'project'>): string {
  return `${id.repository}/${id.project}`;
}

/** `<registry>/<owner>/<name>/<project>:<sha>` */
export function ociReference(registry: string, id: ReleaseIdentity): string {
  return `${registry.replace(/\/+$/, '')}/${imageRepository(id)}:${id.sha}`;
}

/** Whether `id` is a UUID as the database stores ids (8-4-4-4-12 hex digits), so a lookup by it cannot fail on its form. */
export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}
