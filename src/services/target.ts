/**
 * Where a deployment, approval or pin goes (DESIGN.md §7, §10): a repository, a project and a
 * configured environment. Needs only the platform config, no database and no git.
 */
import { type FieldProblem, ForgeError, validationError } from '../core/errors.js';
import { projectProblem, repositoryProblem } from '../core/identity.js';
import { type Environment, findEnvironment, type PlatformConfig } from '../core/platform-config.js';

export interface Target {
  /** Lower-cased `owner/name`. */
  repository: string;
  project: string;
  environment: Environment;
}

/**
 * Validates repository, project and environment (400 `validation_failed`, every problem at
 * once) and finds the environment in the platform config (404 `not_found`, naming the known ones).
 */
export function checkTarget(
  ctx: { platform: PlatformConfig },
  body: { repository?: unknown; project?: unknown; environment?: unknown },
): Target {
  const problems: FieldProblem[] = [];
  const rp = repositoryProblem(body.repository);
  if (rp) problems.push({ path: 'repository', message: rp });
  const pp = projectProblem(body.project);
  if (pp) problems.push({ path: 'project', message: pp });
  if (typeof body.environment !== 'string' || !body.environment)
    problems.push({ path: 'environment', message: 'expected an environment name' });
  if (problems.length) throw validationError(problems);
  const environment = findEnvironment(ctx.platform, body.environment as string);
  if (!environment) {
    throw new ForgeError(
      'not_found',
      `environment "${body.environment}" is not configured; known environments: ${ctx.platform.environments.map((e) => e.name).join(', ')}`,
    );
  }
  return { repository: (body.repository as string).toLowerCase(), project: body.project as string, environment };
}

/** 400 unless `release` is a non-empty reference (tag, number or sha). */
export function requireReleaseRef(release: unknown): string {
  if (typeof release !== 'string' || !release)
    throw validationError([{ path: 'release', message: 'expected a release reference (tag, number or sha)' }]);
  return release;
}
