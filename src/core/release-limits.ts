/**
 * One set of limits on what a release holds (issue #12 item 11): what registration accepts is
 * what can always be read back (`GET …/resources`), diffed (services/release-diff.ts) and
 * rendered by the Argo CD plugin (src/cmp, whose FORGE_CMP_MAX_* default to these). Registration
 * measures each object as the YAML file it becomes in the resources layer, the same bytes the
 * readers count, so nothing accepted is refused later. Pure.
 */
import type { TarLimits } from './tar.js';

export const RELEASE_LIMITS = {
  /** Kubernetes objects in one release (after `kind: List` is flattened); FORGE_MAX_RESOURCES may only lower it. */
  maxObjects: 10_000,
  /** Bytes of one object's YAML file in the resources layer. */
  maxObjectBytes: 4 * 1024 * 1024,
  /** Bytes of all the objects' YAML files together. */
  maxTotalBytes: 64 * 1024 * 1024,
  /** Levels of nesting of one object (the request body as a whole is held to the same in src/core/input-text.ts). */
  maxDepth: 64,
} as const;

/** The limits as the tar reader takes them: what readers of a resources layer enforce. */
export const RESOURCE_LAYER_LIMITS: TarLimits = {
  maxFiles: RELEASE_LIMITS.maxObjects,
  maxFileBytes: RELEASE_LIMITS.maxObjectBytes,
  maxTotalBytes: RELEASE_LIMITS.maxTotalBytes,
};
