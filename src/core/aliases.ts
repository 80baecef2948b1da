/** Aliases and reference resolution (DESIGN.md §3): pure rules, no storage. */

export type AliasType = 'numeric' | 'tag' | 'branch';
export type TaggingStrategy = 'monorepo' | 'tag-all';

export interface Alias {
  alias: string;
  alias_type: AliasType;
}

/**
 * The tag aliases a set of git tags gives one project: under `monorepo` only `<project>/v*`
 * tags count and the alias is the part after `<project>/`; under `tag-all` every tag counts as is.
 */
export function tagAliases(project: string, tags: string[], strategy: TaggingStrategy): string[] {
  const out = strategy === 'tag-all' ? tags : tags.filter((t) => t.startsWith(`${project}/v`)).map((t) => t.slice(project.length + 1));
  return [...new Set(out)];
}

/** `release/1.2` released as number 7 → `release-1.2-7`. */
export function branchAlias(branch: string, releaseNumber: number): string {
  return `${branch.replaceAll('/', '-')}-${releaseNumber}`;
}

const MIN_SHA_PREFIX = 7;

/** How a reference may be read after the exact-alias lookup failed: as a number, a sha prefix, or neither. */
export function referenceForms(ref: string): { number?: number; shaPrefix?: string } {
  const forms: { number?: number; shaPrefix?: string } = {};
  if (/^[1-9][0-9]{0,9}$/.test(ref) && Number(ref) <= 2_147_483_647) forms.number = Number(ref);
  const lower = ref.toLowerCase();
  if (/^[0-9a-f]+$/.test(lower) && lower.length >= MIN_SHA_PREFIX && lower.length <= 64) forms.shaPrefix = lower;
  return forms;
}
