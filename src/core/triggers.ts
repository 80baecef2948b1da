/**
 * Release trigger evaluation (DESIGN.md §4): does this commit release this project, and as
 * what trigger? Pure: the git context is an input.
 */
import type { TaggingStrategy } from './aliases.js';
import { neverMatchesProblem } from './branch-patterns.js';
import { type FieldProblem, validationError } from './errors.js';
import { branchPatternProblem } from './platform-config.js';
import { globMatches } from './policy/branches.js';

export type TriggerType = 'branch_push' | 'tag' | 'manual';

export interface Trigger {
  type: TriggerType;
  branch?: string;
  tag?: string;
}

/**
 * One entry of `release.on` (docs/configuration.md): `branch` is a regular expression matching the
 * whole branch name, `glob` a branch glob as forge.yaml writes them (`*` any characters, `?` one).
 */
export type TriggerRule = { branch: string } | { glob: string } | { tag: true };

export interface ReleaseConfig {
  on: TriggerRule[];
  enabled: boolean;
}

/** What the pipeline knows about the commit it runs on. */
export interface GitRefContext {
  /** The branch that was pushed (absent on a detached checkout or a tag build). */
  branch?: string;
  /** The tag that was pushed, when CI says so (`GITHUB_REF=refs/tags/...`). */
  tag?: string;
  /** Every tag that points at the commit. */
  tags: string[];
}

export type TriggerDecision = { triggered: true; trigger: Trigger; tags: string[] } | { triggered: false; reason: string };

/** Validates a project's `release` block as exported from CUE; `undefined` means no block. */
export function parseReleaseConfig(input: unknown, path = 'release'): ReleaseConfig | undefined {
  if (input === undefined) return undefined;
  const problems: FieldProblem[] = [];
  const obj = input as Record<string, unknown>;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw validationError([{ path, message: 'expected a struct {on: [...], enabled?: bool}' }]);
  }
  const enabled = obj.enabled ?? true;
  if (typeof enabled !== 'boolean') problems.push({ path: `${path}.enabled`, message: 'expected true or false' });
  const on = obj.on ?? [];
  const rules: TriggerRule[] = [];
  if (!Array.isArray(on))
    problems.push({ path: `${path}.on`, message: 'expected a list of {branch: "<regex>"}, {glob: "<glob>"} or {tag: true}' });
  else {
    on.forEach((r, i) => {
      const p = `${path}.on[${i}]`;
      const rule = r as Record<string, unknown>;
      if (rule && typeof rule === 'object' && typeof rule.branch === 'string' && Object.keys(rule).length === 1) {
        const problem = branchRegexProblem(rule.branch);
        if (problem) problems.push({ path: `${p}.branch`, message: problem });
        else rules.push({ branch: rule.branch });
      } else if (rule && typeof rule === 'object' && typeof rule.glob === 'string' && Object.keys(rule).length === 1) {
        const problem = branchPatternProblem(rule.glob);
        if (problem) problems.push({ path: `${p}.glob`, message: `branch glob "${rule.glob}" can never match: it ${problem}` });
        else rules.push({ glob: rule.glob });
      } else if (rule && typeof rule === 'object' && rule.tag === true && Object.keys(rule).length === 1) {
        rules.push({ tag: true });
      } else {
        problems.push({ path: p, message: `expected {branch: "<regex>"}, {glob: "<glob>"} or {tag: true}, got ${JSON.stringify(r)}` });
      }
    });
  }
  if (problems.length) throw validationError(problems);
  return { on: rules, enabled: enabled as boolean };
}

/**
 * Why a `branch` regular expression is refused, or undefined: not a regular expression; written
 * as a glob (`release/*` as a regex matches only "release" and "release/", never "release/1.x":
 * the mistake the two syntaxes invite); or a pattern no git branch name can match (`main$x`,
 * `a^b`, `.*\\.lock`: core/branch-patterns.ts).
 */
export function branchRegexProblem(pattern: string): string | undefined {
  // A `*` at the start or after a `/` repeats nothing useful in a regex: the pattern was meant as a glob.
  if (/(^|\/)\*/.test(pattern))
    return `"${pattern}" is a glob, not a regular expression (as a regular expression it never matches the branches it names): write {glob: "${pattern}"} or {branch: "${pattern.replace(/\*/g, '.*')}"}`;
  try {
    new RegExp(`^(?:${pattern})$`);
  } catch (e) {
    return `invalid regular expression "${pattern}": ${(e as Error).message}`;
  }
  const problem = /[\\^$.|?*+()[\]{}]/.test(pattern) ? neverMatchesProblem('regex', pattern) : branchPatternProblem(pattern);
  if (problem) return `branch "${pattern}" can never match: it ${problem}`;
  return undefined;
}

/** A `branch` rule is a regular expression that must match the whole branch name; a `glob` rule a branch glob. */
export function ruleMatches(rule: { branch: string } | { glob: string }, branch: string): boolean {
  return 'glob' in rule ? globMatches(rule.glob, branch) : branchMatches(rule.branch, branch);
}

/** A branch rule is a regular expression that must match the whole branch name. */
export function branchMatches(pattern: string, branch: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(branch);
}

/** The tags that can trigger a release of `project` under `strategy`. */
export function releaseTags(project: string, tags: string[], strategy: TaggingStrategy): string[] {
  return strategy === 'tag-all' ? tags : tags.filter((t) => t.startsWith(`${project}/v`));
}

/**
 * Decides whether `project` is released for this commit. A manual run releases every project
 * (even one without a `release` block). Otherwise a pushed tag is evaluated as a tag build; a
 * branch as a branch push, falling back to the tags at the commit when no branch rule matched.
 * The commit's tags are sent whenever the project has `{tag: true}`, so the server can add tag
 * aliases.
 */
export function evaluateTrigger(
  project: string,
  release: ReleaseConfig | undefined,
  ctx: GitRefContext,
  strategy: TaggingStrategy,
  manual = false,
): TriggerDecision {
  const tagRule = release?.on.some((r) => 'tag' in r) ?? false;
  const tags = tagRule ? [...new Set([...ctx.tags, ...(ctx.tag ? [ctx.tag] : [])])] : [];
  if (manual) return { triggered: true, trigger: { type: 'manual' }, tags };
  if (!release) return { triggered: false, reason: 'no release block (use --manual to release anyway)' };
  if (!release.enabled) return { triggered: false, reason: 'releases are disabled (release.enabled: false)' };

  if (ctx.branch !== undefined && !ctx.tag) {
    const rule = release.on.find((r) => !('tag' in r) && ruleMatches(r, ctx.branch!));
    if (rule) return { triggered: true, trigger: { type: 'branch_push', branch: ctx.branch }, tags };
  }
  if (tagRule) {
    const candidates = releaseTags(project, ctx.tag ? [ctx.tag] : ctx.tags, strategy);
    if (candidates.length) return { triggered: true, trigger: { type: 'tag', tag: candidates[0] }, tags };
  }
  const what = ctx.tag ? `tag "${ctx.tag}"` : ctx.branch !== undefined ? `branch "${ctx.branch}"` : 'a detached commit';
  const rules =
    release.on.map((r) => ('branch' in r ? `{branch: "${r.branch}"}` : 'glob' in r ? `{glob: "${r.glob}"}` : '{tag: true}')).join(', ') ||
    '(none)';
  return { triggered: false, reason: `${what} matches no rule of release.on: ${rules}` };
}
