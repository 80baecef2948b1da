/**
 * The two YAML libraries, each loaded on first use: `yaml` (the writer's fallback printer,
 * pointer and env.yaml parsing off their fast paths) and `js-yaml` (the plugin's reading of a
 * layer file not in Forge's own layout). Importing this module costs nothing, so that a command,
 * or the Argo CD plugin on its fast path, never loads a library it does not use (issue 18,
 * plugin cold start). In the plugin's bundle these two calls load the libraries' own bundled
 * files beside it (scripts/bundle-cmp.mjs). Pure.
 */
import { createRequire } from 'node:module';

let yaml: typeof import('yaml') | undefined;
let jsYaml: typeof import('js-yaml') | undefined;

/** The `yaml` package. */
export const yamlPackage = () => (yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
/** The `js-yaml` package. */
export const jsYamlPackage = () => (jsYaml ??= createRequire(import.meta.url)('js-yaml') as typeof import('js-yaml'));
