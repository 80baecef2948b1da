/**
 * The YAML stream Argo CD applies: every document of the release's resources layer, empty
 * ones dropped, each checked to be a Kubernetes object (apiVersion and kind), sorted by
 * (kind, name, apiVersion, namespace), each starting with `---`. Pure.
 *
 * A file exactly as Forge's direct emitter prints it (most objects a current server registers;
 * not those it leaves to the yaml package) is read back by src/core/yaml-reread.ts, which proves it by printing the value again; every other
 * document is read with js-yaml's YAML 1.2 core schema — the reading the server gives the
 * same files (release manifests, diffs), and ten times faster than the yaml package's
 * document parser, most of a cold render (issue #18) — and printed again by
 * src/core/yaml-out.ts, never passed on byte for byte: releases registered before that writer
 * existed hold strings such as `yes` or `1_000` unquoted, which a YAML 1.1 reader (Argo CD,
 * kubectl) would turn into a boolean or a number (issue 19 item 3). Anchors and aliases are
 * refused: the server never writes them, and expanding them could blow up the output.
 */
import type { EventType, State } from 'js-yaml';
import { ForgeError } from '../core/errors.js';
import { jsYamlPackage } from '../core/yaml-libraries.js';
import { toYaml } from '../core/yaml-out.js';
import { rereadOwnYaml } from '../core/yaml-reread.js';

interface Doc {
  kind: string;
  name: string;
  apiVersion: string;
  namespace: string;
  yaml: string;
}

function invalid(where: string, message: string): ForgeError {
  return new ForgeError('validation_error', `${where}: ${message}`, { file: where });
}

/** js-yaml's node listener: fails the read at the first anchor (`&name`), which every alias needs. */
function refuseAnchors(event: EventType, state: State): void {
  // js-yaml's state holds these (untyped in @types/js-yaml): the node's anchor, and the document's anchors so far
  const { anchor, anchorMap } = state as State & { anchor?: string | null; anchorMap?: object };
  if (event === 'close' && (anchor != null || Object.keys(anchorMap ?? {}).length > 0))
    throw new Error('Aliases and anchors (&name, *name) are refused: Forge never writes them, and expanding them could blow up the output');
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The Kubernetes objects of `files` (a YAML stream per file; `where` names the file in messages), as one YAML stream.
 * With `only.namespace` (FORGE_CMP_DESTINATION_NAMESPACE_ONLY), an object whose metadata.namespace
 * names another namespace than the Application's destination is refused (objects without one go
 * to the destination); an empty `only.namespace` (ARGOCD_APP_NAMESPACE unset) refuses every render.
 * Cluster-scoped kinds are the AppProject's to refuse (clusterResourceWhitelist): the plugin has
 * no API discovery to tell them apart.
 */
export function resourceStream(
  files: { path: string; yaml: string }[],
  where: (path: string) => string,
  only?: { namespace: string },
): string {
  if (only && !only.namespace)
    throw new ForgeError(
      'validation_error',
      'FORGE_CMP_DESTINATION_NAMESPACE_ONLY is set but ARGOCD_APP_NAMESPACE (the Application’s destination namespace) is not: expected Argo CD to set it; give the Application a destination namespace',
      { field: 'ARGOCD_APP_NAMESPACE' },
    );
  const docs: Doc[] = [];
  for (const file of files) {
    // A file Forge's own writer printed is read back without a parser, and is already its own
    // reprint (src/core/yaml-reread.ts); anything else goes through js-yaml
    const own = rereadOwnYaml(file.yaml, { sortKeys: true });
    let values: unknown[];
    if (own !== undefined) values = [own];
    else {
      // loaded outside the try: a broken install is not the release's YAML error
      const { loadAll, CORE_SCHEMA } = jsYamlPackage();
      try {
        // `json`: a duplicate key keeps its last value instead of failing; every object is
        // written again below, so a duplicate key cannot reach Argo CD
        values = loadAll(file.yaml, undefined, { schema: CORE_SCHEMA, json: true, listener: refuseAnchors });
      } catch (err) {
        throw invalid(where(file.path), `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    for (const [i, value] of values.entries()) {
      const at = `${where(file.path)}${values.length > 1 ? ` (document ${i + 1})` : ''}`;
      if (value === null || value === undefined) continue;
      if (!isMap(value))
        throw invalid(at, `expected a Kubernetes object (a mapping), got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
      for (const field of ['apiVersion', 'kind'] as const) {
        if (typeof value[field] !== 'string' || value[field] === '') {
          throw invalid(at, `${field} is ${JSON.stringify(value[field]) ?? 'missing'}; expected a non-empty string`);
        }
      }
      const metadata = isMap(value.metadata) ? value.metadata : {};
      if (only && metadata.namespace !== undefined && metadata.namespace !== null && metadata.namespace !== only.namespace)
        throw invalid(
          at,
          `${value.kind} ${JSON.stringify(metadata.name)} names namespace ${JSON.stringify(metadata.namespace)}; this Application deploys to namespace ${JSON.stringify(only.namespace)} only ` +
            '(FORGE_CMP_DESTINATION_NAMESPACE_ONLY): expected that namespace or none',
        );
      docs.push({
        kind: value.kind as string,
        apiVersion: value.apiVersion as string,
        name: typeof metadata.name === 'string' ? metadata.name : '',
        namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '',
        yaml: own !== undefined ? file.yaml : toYaml(value, { sortKeys: true }),
      });
    }
  }
  docs.sort(
    (a, b) =>
      compare(a.kind, b.kind) || compare(a.name, b.name) || compare(a.apiVersion, b.apiVersion) || compare(a.namespace, b.namespace),
  );
  return docs.map((d) => `---\n${d.yaml}`).join('');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
