/**
 * Validation of rendered Kubernetes objects (issue 3, issue 19 item 3, DESIGN.md §6 step 1),
 * following what Kubernetes and Argo CD accept: each object has apiVersion, kind and a
 * DNS-1123 metadata.name — or, for an Argo CD / Helm hook, only metadata.generateName (the
 * API server makes the name) — and a DNS-1123 namespace when given. A `kind: List` (or any
 * `<Kind>List` of apiVersion v1 with `items`) is flattened into its items, as kubectl and
 * Argo CD do. No two objects share (apiVersion, kind, namespace, name) once an omitted
 * namespace is taken as "default" (what the API server does for a namespaced kind; for a
 * cluster-scoped kind the namespace is ignored, so the two are the same object too).
 * Used by the pipeline before sending and by the server when registering. Pure.
 */
import { canonicalJson } from './canonical-json.js';
import type { FieldProblem } from './errors.js';

/** DNS-1123 subdomain: what Kubernetes requires of most object names. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** DNS-1123 label: what Kubernetes requires of namespaces. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const API_VERSION = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
/** A generateName prefix: a DNS-1123 subdomain that may end with "-" or ".". */
const GENERATE_NAME = /^[a-z0-9]([-a-z0-9.]*)?$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The API group of an apiVersion: what comes before "/" ("" for the core group's "v1"). */
export const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')).toLowerCase() : '');

/** Annotations that make an object an Argo CD or Helm hook: the only objects Argo CD creates by generateName. */
const HOOK_ANNOTATIONS = ['argocd.argoproj.io/hook', 'helm.sh/hook'];

function isList(obj: unknown): obj is { items: unknown[] } {
  return isObject(obj) && obj.apiVersion === 'v1' && typeof obj.kind === 'string' && /List$/.test(obj.kind) && Array.isArray(obj.items);
}

/**
 * The objects with every `kind: List` replaced by its items (nested lists too), each with the
 * path it came from (`resources[2].items[0]`). Walks without recursion.
 */
export function flattenLists(objects: unknown[], pathPrefix = 'resources'): { object: unknown; path: string }[] {
  const out: { object: unknown; path: string }[] = [];
  const stack = objects.map((object, i) => ({ object, path: `${pathPrefix}[${i}]` })).reverse();
  while (stack.length > 0) {
    const { object, path } = stack.pop()!;
    if (isList(object)) {
      for (let j = object.items.length - 1; j >= 0; j--) stack.push({ object: object.items[j], path: `${path}.items[${j}]` });
    } else out.push({ object, path });
  }
  return out;
}

/** The objects to store: lists flattened (validateResources has accepted them). */
export function flattenResources<T>(objects: T[]): T[] {
  return flattenLists(objects).map((o) => o.object as T);
}

export function validateResources(objects: unknown[], pathPrefix = 'resources'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, string>();
  for (const { object: obj, path: at } of flattenLists(objects, pathPrefix)) {
    if (!isObject(obj)) {
      problems.push({ path: at, message: 'expected a Kubernetes object (a map with apiVersion, kind, metadata)' });
      continue;
    }
    const { apiVersion, kind, metadata } = obj;
    let ok = true;
    if (typeof apiVersion !== 'string' || !API_VERSION.test(apiVersion)) {
      problems.push({
        path: `${at}.apiVersion`,
        message: `expected "<version>" or "<group>/<version>" (e.g. "apps/v1"), got ${JSON.stringify(apiVersion)}`,
      });
      ok = false;
    }
    if (typeof kind !== 'string' || !KIND.test(kind)) {
      problems.push({ path: `${at}.kind`, message: `expected a kind such as "Deployment", got ${JSON.stringify(kind)}` });
      ok = false;
    }
    if (!isObject(metadata)) {
      problems.push({ path: `${at}.metadata`, message: 'expected a map with at least "name" (or "generateName" for a hook)' });
      continue;
    }
    const { name, namespace, generateName } = metadata;
    const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
    const hook = HOOK_ANNOTATIONS.some((a) => typeof annotations[a] === 'string');
    if (name === undefined && generateName !== undefined) {
      // The API server appends five characters: the prefix leaves room for them.
      if (typeof generateName !== 'string' || generateName.length > 248 || !GENERATE_NAME.test(generateName)) {
        problems.push({
          path: `${at}.metadata.generateName`,
          message: `expected a DNS-1123 name prefix (lower-case letters, digits, "-" and ".", at most 248 characters), got ${JSON.stringify(generateName)}`,
        });
        ok = false;
      } else if (!hook) {
        problems.push({
          path: `${at}.metadata.generateName`,
          message: `Argo CD creates objects by generateName only for hooks: add the annotation "argocd.argoproj.io/hook" (e.g. PreSync) or give metadata.name`,
        });
        ok = false;
      }
    } else if (typeof name !== 'string' || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
      problems.push({
        path: `${at}.metadata.name`,
        message: `expected a DNS-1123 name (lower-case letters, digits, "-" and ".", at most 253 characters, starting and ending alphanumeric), got ${JSON.stringify(name)}`,
      });
      ok = false;
    }
    // "" is what Kubernetes takes for an omitted namespace (the API server defaults it)
    if (
      namespace !== undefined &&
      namespace !== '' &&
      (typeof namespace !== 'string' || namespace.length > 63 || !DNS1123_LABEL.test(namespace))
    ) {
      problems.push({
        path: `${at}.metadata.namespace`,
        message: `expected a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters), got ${JSON.stringify(namespace)}`,
      });
      ok = false;
    }
    if (!ok) continue;
    // Objects made by generateName get distinct names from the API server: only two identical
    // ones collide (a release stores each object once, named by its content).
    const key =
      name === undefined
        ? JSON.stringify(['generateName', canonicalJson({ ...obj, metadata: { ...metadata, namespace: namespace || 'default' } })])
        : // versions of one API group serve one object (apps/v1 and apps/v1beta2 Deployment "a"),
          // and a release names each object's file without its version or case
          JSON.stringify([groupOf(apiVersion as string), (kind as string).toLowerCase(), namespace || 'default', name]);
    const first = seen.get(key);
    if (first !== undefined && name === undefined) {
      problems.push({
        path: at,
        message: `duplicate of ${first}: the two are the same ${kind} made by generateName "${generateName}" (an omitted namespace is "default"); a release holds each object once: remove one, or make them differ`,
      });
    } else if (first !== undefined) {
      problems.push({
        path: at,
        message: `duplicate of ${first}: ${kind} "${name}" in namespace "${namespace || 'default'}" (${groupOf(apiVersion as string) || 'core'} API group) appears twice (an omitted namespace is "default"; the versions of one group are one object)`,
      });
    } else seen.set(key, at);
  }
  return problems;
}
