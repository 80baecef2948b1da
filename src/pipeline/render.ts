/**
 * Rendering a project (DESIGN.md §4): evaluate its CUE with artifact values (real ones from a
 * build, given ones, or placeholders), check the objects (core/manifests), and print them as a
 * YAML stream.
 */
import { type ArtifactRef, type ArtifactValue, lookupArtifactRef } from '../core/artifact-refs.js';
import { ForgeError, validationError } from '../core/errors.js';
import { validateResources } from '../core/manifests.js';
import { toYamlStream } from '../core/yaml-out.js';
import { type ArtifactConfig, type ArtifactOutputs, placeholderOutputs, placeholderValue } from './artifact-config.js';
import type { CueEngine } from './cue-engine.js';
import { evaluateProject, type ProjectConfig, type ProjectSource } from './project.js';

/** `name.field.path=value` (as `forge render --artifact` takes it) → `{ 'name.field.path': value }`. */
export function parseArtifactAssignments(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq) : '';
    if (!/^[^.=]+(\.[^.=]+)+$/.test(key)) {
      throw new ForgeError(
        'validation_error',
        `--artifact "${item}": expected <artifact>.<field>=<value>, e.g. api-server.uri=registry.example.com/api:1.0`,
      );
    }
    out[key] = item.slice(eq + 1);
  }
  return out;
}

/** Fails when a rendered object is invalid, naming the project and the field paths. */
export function checkResources(relDir: string, resources: unknown[]): void {
  const problems = validateResources(resources, 'deployment.resources');
  if (problems.length) {
    const err = validationError(problems);
    throw new ForgeError('validation_error', `${relDir}/.forge: ${err.message}`, err.details);
  }
}

/**
 * Renders a project without building anything: references take the `given` values
 * (`artifact.field` → value) or placeholders. A given value must name a field that exists.
 */
export async function renderWithPlaceholders(
  engine: CueEngine,
  src: ProjectSource,
  relDir: string,
  given: Record<string, string> = {},
): Promise<ProjectConfig> {
  let cfg = await evaluateProject(
    engine,
    src,
    (r): ArtifactValue => given[r.ref] ?? placeholderValue(r.artifact, r.path),
    (artifacts) => {
      const shape = shapeOf(artifacts);
      for (const key of Object.keys(given)) {
        const [artifact, ...path] = key.split('.');
        let v: unknown = shape[artifact];
        for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
        if (v === undefined || typeof v === 'object') {
          throw new ForgeError(
            'validation_error',
            `--artifact ${key}: ${artifact in shape ? `artifact "${artifact}" has no field "${path.join('.')}"` : `no artifact "${artifact}" (artifacts: ${Object.keys(shape).join(', ') || 'none'})`}`,
          );
        }
      }
      return shape;
    },
  );
  // Values the configuration already knows (an external publisher's uri) need a second evaluation.
  const shape = shapeOf(cfg.artifacts) as Record<string, unknown>;
  const known = (r: ArtifactRef, file: string): ArtifactValue => given[r.ref] ?? lookupArtifactRef(shape, r, file);
  if (src.refs.some(({ ref, file }) => known(ref, file) !== (given[ref.ref] ?? placeholderValue(ref.artifact, ref.path)))) {
    cfg = await evaluateProject(engine, src, known, () => shape as Record<string, ArtifactOutputs>);
  }
  checkResources(relDir, cfg.resources);
  return cfg;
}

function shapeOf(artifacts: ArtifactConfig[]): Record<string, ArtifactOutputs> {
  return Object.fromEntries(artifacts.map((a) => [a.name, placeholderOutputs(a)]));
}

/** Kubernetes objects as a YAML stream, `---` before each document. */
export function yamlStream(objects: unknown[]): string {
  return toYamlStream(objects);
}
