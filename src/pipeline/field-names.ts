/**
 * Near misses of configuration field names (docs/configuration.md): `deploymnet` for
 * `deployment`, `taging` for `tagging`, `brnach` for `branch`. One rule for every file Forge
 * reads: a name within edit distance 2 of a known field (case-insensitive) is a near miss.
 */

/** Levenshtein distance of two short strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The field of `fields` that `key` is a near miss of (the closest; ties: the first), else undefined. */
export function nearField(key: string, fields: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const f of fields) {
    const d = editDistance(key.toLowerCase(), f.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [f, d];
  }
  return best;
}

/**
 * The first key of `data` that is not one of `fields` but a near miss of one that `data` does
 * not set (`deploymnet` beside no `deployment`), with the field meant; else undefined. Keys
 * that are not near misses are left alone: they are the file's own helpers.
 */
export function misspeltField(data: Record<string, unknown>, fields: readonly string[]): { key: string; meant: string } | undefined {
  for (const key of Object.keys(data)) {
    if (fields.includes(key)) continue;
    const meant = nearField(
      key,
      fields.filter((f) => !(f in data)),
    );
    if (meant) return { key, meant };
  }
  return undefined;
}
