/**
 * Aliases and reference resolution (DESIGN.md §3): pure rules, no storage.
 *
 * No alias may shadow a reference of another kind (issue #13 item 3): a full-length sha (40 or
 * 64 hex characters) always means that commit, and a tag of that form is refused; a reference
 * that reads both as an alias and as a release number or sha prefix of a *different* release is
 * 409 ambiguous_reference (store/releases.ts resolveRelease), never silently one of them.
 */
import { refNameProblem } from './ref-names.js';

export type AliasType = 'numeric' | 'tag' | 'branch';
export type TaggingStrategy = 'monorepo' | 'tag-all';

export interface Alias {
  alias: string;
  alias_type: AliasType;
}

/**
 * The alias one git tag gives a project, or undefined: under `monorepo` only `<project>/v*` tags
 * count and the alias is the part after `<project>/`; under `tag-all` every tag counts as is.
 */
export function tagAlias(project: string, tag: string, strategy: TaggingStrategy): string | undefined {
  if (strategy === 'tag-all') return tag;
  return tag.startsWith(`${project}/v`) ? tag.slice(project.length + 1) : undefined;
}

/** The tag aliases a set of git tags gives one project (see tagAlias), each once, in order. */
export function tagAliases(project: string, tags: string[], strategy: TaggingStrategy): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const a = tagAlias(project, t, strategy);
    if (a !== undefined) out.push(a);
  }
  return [...new Set(out)];
}

/**
 * The tagging strategy a release is registered under (issue #13 item 7): the platform config's
 * `repositories.<owner/name>.tagging_strategy` when it sets one, else the request's, else monorepo.
 */
export function taggingStrategyFor(
  repositories: Record<string, { taggingStrategy?: TaggingStrategy }> | undefined,
  repository: string,
  requested?: TaggingStrategy,
): TaggingStrategy {
  return repositories?.[repository]?.taggingStrategy ?? requested ?? 'monorepo';
}

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * Why `tag` may not be a tag of a release (an alias), or undefined: it must be a name git
 * accepts (core/ref-names.ts) and must not be a full-length hex string, which always means a
 * commit. Tags that read as a release number or a short sha prefix are accepted; see
 * resolveRelease for what a reference matching both means.
 */
export function tagProblem(tag: string): string | undefined {
  const p = refNameProblem(tag);
  if (p) return `"${tag}" is not a valid git tag name: it ${p}`;
  if (FULL_SHA.test(tag)) return `"${tag}" is ${tag.length} hex characters: a full-length sha always names a commit, never a tag`;
  return undefined;
}

/** Why `branch` is not a name git accepts for a branch, or undefined. */
export function branchProblem(branch: string): string | undefined {
  const p = refNameProblem(branch);
  return p ? `"${branch}" is not a valid git branch name: it ${p}` : undefined;
}

/**
 * Why the tag alias `alias` would take a branch alias a later release is yet to derive, or
 * undefined (issue #13 review F3: no alias may shadow another kind). A branch alias is
 * `<branch with / as ->-<n>` and is derived only for release n, at its registration; so a tag of
 * that form (no `/` before the last `-<n>`) is refused when n is a number the project has not
 * allocated yet (`nextNumber` or above) and `<branch>` is one the project releases from
 * (`releasedBranches`, in alias form: `release/1.2` as `release-1.2`). A tag `main-2` given once
 * release 2 exists can never meet a derived alias of another release, and stays accepted; so do
 * `v2.0.0-rc-7` or `deploy-2026` while no branch of that name releases the project (if one
 * starts to later, its derived alias is skipped where the tag holds it, issue #12 item 9).
 */
export function futureBranchAliasProblem(alias: string, nextNumber: number, releasedBranches: ReadonlySet<string>): string | undefined {
  const m = /^([^/]+)-([1-9][0-9]*)$/.exec(alias);
  if (!m || Number(m[2]) < nextNumber || !releasedBranches.has(m[1]!)) return undefined;
  return (
    `"${alias}" has the form of the branch alias "<branch>-<release number>" that release ${m[2]} of a branch "${m[1]}" ` +
    `would be given, and release ${m[2]} does not exist yet: expected a tag that does not end in "-<number>" with a number of ${nextNumber} or more ` +
    `(for example "${m[1]}.${m[2]}")`
  );
}

/** `release/1.2` released as number 7 → `release-1.2-7`. */
export function branchAlias(branch: string, releaseNumber: number): string {
  return `${branchAliasPrefix(branch)}-${releaseNumber}`;
}

/** What a branch's aliases start with, before `-<number>` (src/store/releases.ts registrationState forms the alias in SQL the same way). */
export function branchAliasPrefix(branch: string): string {
  return branch.replaceAll('/', '-');
}

const MIN_SHA_PREFIX = 7;

export interface ReferenceForms {
  /** A full-length sha (40 or 64 hex, lower-cased): it means that commit before anything else. */
  fullSha?: string;
  number?: number;
  shaPrefix?: string;
}

/** How a reference may be read besides an exact alias: as a full sha, a number, a sha prefix, or none of them. */
export function referenceForms(ref: string): ReferenceForms {
  const forms: ReferenceForms = {};
  if (FULL_SHA.test(ref)) forms.fullSha = ref.toLowerCase();
  if (/^[1-9][0-9]{0,9}$/.test(ref) && Number(ref) <= 2_147_483_647) forms.number = Number(ref);
  const lower = ref.toLowerCase();
  if (/^[0-9a-f]+$/.test(lower) && lower.length >= MIN_SHA_PREFIX && lower.length <= 64) forms.shaPrefix = lower;
  return forms;
}
