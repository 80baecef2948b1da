/**
 * The YAML stream Argo CD applies: every document of the release's resources layer, empty
 * ones dropped, each checked to be a Kubernetes object (apiVersion and kind), sorted by
 * (kind, name, apiVersion, namespace), each starting with `---`. Pure.
 */
import { parseAllDocuments, stringify } from 'yaml';
import { ForgeError } from '../core/errors.js';

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

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The Kubernetes objects of `files` (a YAML stream per file; `where` names the file in messages), as one YAML stream. */
export function resourceStream(files: { path: string; yaml: string }[], where: (path: string) => string): string {
  const docs: Doc[] = [];
  for (const file of files) {
    for (const [i, doc] of parseAllDocuments(file.yaml).entries()) {
      const at = `${where(file.path)}${i ? ` (document ${i + 1})` : ''}`;
      if (doc.errors.length) throw invalid(at, `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue;
      if (!isMap(value)) throw invalid(at, `expected a Kubernetes object (a mapping), got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
      for (const field of ['apiVersion', 'kind'] as const) {
        if (typeof value[field] !== 'string' || value[field] === '') {
          throw invalid(at, `${field} is ${JSON.stringify(value[field]) ?? 'missing'}; expected a non-empty string`);
        }
      }
      const metadata = isMap(value.metadata) ? value.metadata : {};
      docs.push({
        kind: value.kind as string,
        apiVersion: value.apiVersion as string,
        name: typeof metadata.name === 'string' ? metadata.name : '',
        namespace: typeof metadata.namespace === 'string' ? metadata.namespace : '',
        yaml: stringify(value, { sortMapEntries: true, lineWidth: 0 }),
      });
    }
  }
  docs.sort((a, b) => compare(a.kind, b.kind) || compare(a.name, b.name) || compare(a.apiVersion, b.apiVersion) || compare(a.namespace, b.namespace));
  return docs.map((d) => `---\n${d.yaml}`).join('');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
