/**
 * Validation of rendered Kubernetes objects (issue 3, DESIGN.md §6 step 1): each object has
 * apiVersion, kind and a DNS-1123 metadata.name (and namespace, when given), and no two objects
 * share (apiVersion, kind, namespace, name). Used by the pipeline before sending and by the
 * server when registering. Pure.
 */
import type { FieldProblem } from './errors.js';

/** DNS-1123 subdomain: what Kubernetes requires of most object names. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** DNS-1123 label: what Kubernetes requires of namespaces. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const API_VERSION = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function validateResources(objects: unknown[], pathPrefix = 'resources'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  objects.forEach((obj, i) => {
    const at = `${pathPrefix}[${i}]`;
    if (!isObject(obj)) {
      problems.push({ path: at, message: 'expected a Kubernetes object (a map with apiVersion, kind, metadata)' });
      return;
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
      problems.push({ path: `${at}.metadata`, message: 'expected a map with at least "name"' });
      return;
    }
    const { name, namespace } = metadata;
    if (typeof name !== 'string' || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
      problems.push({
        path: `${at}.metadata.name`,
        message: `expected a DNS-1123 name (lower-case letters, digits, "-" and ".", at most 253 characters, starting and ending alphanumeric), got ${JSON.stringify(name)}`,
      });
      ok = false;
    }
    if (namespace !== undefined && (typeof namespace !== 'string' || namespace.length > 63 || !DNS1123_LABEL.test(namespace))) {
      problems.push({
        path: `${at}.metadata.namespace`,
        message: `expected a DNS-1123 label (lower-case letters, digits and "-", at most 63 characters), got ${JSON.stringify(namespace)}`,
      });
      ok = false;
    }
    if (!ok) return;
    const key = JSON.stringify([apiVersion, kind, namespace ?? '', name]);
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({
        path: at,
        message: `duplicate of ${pathPrefix}[${first}]: ${kind} "${name}"${namespace ? ` in namespace "${namespace}"` : ''} (${apiVersion}) appears twice`,
      });
    } else seen.set(key, i);
  });
  return problems;
}
