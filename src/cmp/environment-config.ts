/**
 * The optional `env.yaml` beside a pointer (DESIGN.md §8, §9): a Crossplane EnvironmentConfig
 * for the project in that environment, emitted after the release's resources. Pure.
 */
import { ForgeError } from '../core/errors.js';
import { yamlPackage } from '../core/yaml-libraries.js';
import { toYaml } from '../core/yaml-out.js';

export const ENVIRONMENT_CONFIG_API_VERSION = 'apiextensions.crossplane.io/v1beta1';
export const ENVIRONMENT_CONFIG_KIND = 'EnvironmentConfig';

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Validates the file's text and returns it as one `---` document; errors name `file`, the field, the value and what was expected. */
export function environmentConfigDocument(text: string, file: string): string {
  const fail = (field: string, message: string) => new ForgeError('validation_error', `${file}: ${field} ${message}`, { file, field });
  const docs = yamlPackage()
    .parseAllDocuments(text)
    .filter((d) => d.errors.length || (d.contents !== null && d.toJS() != null));
  if (docs.length !== 1)
    throw new ForgeError('validation_error', `${file}: expected exactly one YAML document (an EnvironmentConfig), found ${docs.length}`, {
      file,
    });
  const doc = docs[0]!;
  if (doc.errors.length)
    throw new ForgeError('validation_error', `${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, { file });
  const value: unknown = doc.toJS();
  if (!isMap(value)) throw new ForgeError('validation_error', `${file}: expected a mapping (an EnvironmentConfig)`, { file });
  if (value.apiVersion !== ENVIRONMENT_CONFIG_API_VERSION)
    throw fail('apiVersion', `is ${JSON.stringify(value.apiVersion) ?? 'missing'}; expected "${ENVIRONMENT_CONFIG_API_VERSION}"`);
  if (value.kind !== ENVIRONMENT_CONFIG_KIND)
    throw fail('kind', `is ${JSON.stringify(value.kind) ?? 'missing'}; expected "${ENVIRONMENT_CONFIG_KIND}"`);
  const metadata = value.metadata;
  if (!isMap(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    throw fail(
      'metadata.name',
      `is ${JSON.stringify(isMap(metadata) ? metadata.name : metadata) ?? 'missing'}; expected a non-empty string`,
    );
  }
  if (!isMap(value.data))
    throw fail('data', `is ${JSON.stringify(value.data) ?? 'missing'}; expected a mapping at the top level of the document`);
  return `---\n${toYaml(value)}`;
}
