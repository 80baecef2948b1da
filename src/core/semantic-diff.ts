/**
 * The semantic diff of two releases (issue #16): their Kubernetes objects matched by identity
 * (group, kind, namespace, name; an omitted namespace is `default` for namespaced kinds), and
 * for each object present in both, the fields that differ with their old and new values. Key
 * order and YAML formatting never show as changes. Pure.
 *
 * Lists: items that are objects with a `name` (containers, env, ports, volumes…, Kubernetes'
 * merge key) are matched by name, wherever they stand (`containers[name=web].image`); other
 * lists are compared by position (`args[2]`).
 *
 * A Secret's values (`data`, `stringData`, and the last-applied annotation that copies them)
 * are never shown: only that they were added, removed or changed, as `"(hidden)"`.
 */

export interface ObjectKey {
  group: string;
  kind: string;
  /** Null for cluster-scoped kinds. */
  namespace: string | null;
  name: string;
}

export interface FieldChange {
  path: string;
  /** Absent when the field was added. */
  old?: unknown;
  /** Absent when the field was removed. */
  new?: unknown;
}

export interface ObjectDiff {
  added: ObjectKey[];
  removed: ObjectKey[];
  changed: (ObjectKey & { changes: FieldChange[] })[];
  unchanged: number;
}

/** What a hidden value reads as. */
export const HIDDEN = '(hidden)';

/**
 * Kinds of the Kubernetes API (and the CRDs Forge users commonly ship) that are cluster-scoped:
 * their objects have no namespace. Every other kind is taken as namespaced.
 */
const CLUSTER_SCOPED = new Set([
  '/Namespace',
  '/Node',
  '/PersistentVolume',
  '/ComponentStatus',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'apiregistration.k8s.io/APIService',
  'storage.k8s.io/StorageClass',
  'storage.k8s.io/CSIDriver',
  'storage.k8s.io/CSINode',
  'storage.k8s.io/VolumeAttachment',
  'scheduling.k8s.io/PriorityClass',
  'node.k8s.io/RuntimeClass',
  'networking.k8s.io/IngressClass',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'certificates.k8s.io/CertificateSigningRequest',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'policy/PodSecurityPolicy',
  'cert-manager.io/ClusterIssuer',
  'snapshot.storage.k8s.io/VolumeSnapshotClass',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The identity of a Kubernetes object; the namespace defaulted to `default` for namespaced kinds. */
export function objectKey(o: Obj): ObjectKey {
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const kind = typeof o.kind === 'string' ? o.kind : '';
  const meta = isObj(o.metadata) ? o.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? `${meta.generateName}*` : '';
  const clusterScoped = CLUSTER_SCOPED.has(`${group}/${kind}`);
  const ns = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
  return { group, kind, namespace: clusterScoped ? null : ns, name };
}

const keyText = (k: ObjectKey) => `${k.group}\u0000${k.kind}\u0000${k.namespace ?? ''}\u0000${k.name}`;
const compareKeys = (a: ObjectKey, b: ObjectKey) =>
  a.group.localeCompare(b.group) ||
  a.kind.localeCompare(b.kind) ||
  (a.namespace ?? '').localeCompare(b.namespace ?? '') ||
  a.name.localeCompare(b.name);

/** `a.b`, `a["app.kubernetes.io/name"]`: a path step for an object key. */
function step(path: string, key: string): string {
  const simple = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key);
  if (simple) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

/** Lists of objects that each have a distinct string `name` are matched by it. */
function byName(list: unknown[]): Map<string, unknown> | undefined {
  if (list.length === 0) return undefined;
  const m = new Map<string, unknown>();
  for (const item of list) {
    if (!isObj(item) || typeof item.name !== 'string' || m.has(item.name)) return undefined;
    m.set(item.name, item);
  }
  return m;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObj(a)) {
    if (!isObj(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !deepEqual(a[k], b[k])) return false;
    return true;
  }
  // numbers and their text are different values (YAML 1 and "1"): no coercion
  return false;
}

type Hide = (path: string) => boolean;

function walk(a: unknown, b: unknown, path: string, out: FieldChange[], hide: Hide): void {
  if (deepEqual(a, b)) return;
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const p = step(path, k);
      if (!Object.hasOwn(b, k)) out.push({ path: p, old: hide(p) ? HIDDEN : a[k] });
      else if (!Object.hasOwn(a, k)) out.push({ path: p, new: hide(p) ? HIDDEN : b[k] });
      else walk(a[k], b[k], p, out, hide);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const na = byName(a);
    const nb = byName(b);
    if (na && nb) {
      const names = [...new Set([...na.keys(), ...nb.keys()])].sort();
      for (const n of names) {
        const p = `${path}[name=${n}]`;
        if (!nb.has(n)) out.push({ path: p, old: hide(p) ? HIDDEN : na.get(n) });
        else if (!na.has(n)) out.push({ path: p, new: hide(p) ? HIDDEN : nb.get(n) });
        else walk(na.get(n), nb.get(n), p, out, hide);
      }
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= b.length) out.push({ path: p, old: hide(p) ? HIDDEN : a[i] });
      else if (i >= a.length) out.push({ path: p, new: hide(p) ? HIDDEN : b[i] });
      else walk(a[i], b[i], p, out, hide);
    }
    return;
  }
  const hidden = hide(path);
  out.push({ path, old: hidden ? HIDDEN : a, new: hidden ? HIDDEN : b });
}

const SECRET_PATHS = /^(data|stringData)([.[]|$)|^metadata\.annotations\["kubectl\.kubernetes\.io\/last-applied-configuration"\]/;

/** The changed fields of one object (both sides of the same identity), sorted by path. */
export function diffObject(a: Obj, b: Obj): FieldChange[] {
  const key = objectKey(b);
  const secret = key.group === '' && key.kind === 'Secret';
  const hide: Hide = secret ? (p) => SECRET_PATHS.test(p) : () => false;
  const out: FieldChange[] = [];
  // An omitted namespace is the default one (the identity says so): writing it out is no change.
  walk(withNamespace(a, objectKey(a).namespace), withNamespace(b, key.namespace), '', out, hide);
  return out;
}

/** `o` with `metadata.namespace` set to its defaulted namespace (namespaced kinds only), for comparing. */
function withNamespace(o: Obj, namespace: string | null): Obj {
  if (namespace === null) return o;
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  return meta.namespace === namespace ? o : { ...o, metadata: { ...meta, namespace } };
}

/**
 * The semantic diff of two sets of objects (`from`, `to`). Objects that share an identity within
 * one side (a release never has them: registration refuses duplicates) are told apart by their
 * position, `name#2`.
 */
export function semanticDiff(from: readonly Obj[], to: readonly Obj[]): ObjectDiff {
  const index = (list: readonly Obj[]) => {
    const m = new Map<string, { key: ObjectKey; object: Obj }>();
    for (const object of list) {
      let key = objectKey(object);
      for (let n = 2; m.has(keyText(key)); n++) key = { ...objectKey(object), name: `${objectKey(object).name}#${n}` };
      m.set(keyText(key), { key, object });
    }
    return m;
  };
  const a = index(from);
  const b = index(to);
  const added: ObjectKey[] = [];
  const removed: ObjectKey[] = [];
  const changed: ObjectDiff['changed'] = [];
  let unchanged = 0;
  for (const [k, { key, object }] of b) {
    const old = a.get(k);
    if (!old) added.push(key);
    else {
      const changes = diffObject(old.object, object);
      if (changes.length) changed.push({ ...key, changes });
      else unchanged++;
    }
  }
  for (const [k, { key }] of a) if (!b.has(k)) removed.push(key);
  added.sort(compareKeys);
  removed.sort(compareKeys);
  changed.sort(compareKeys);
  return { added, removed, changed, unchanged };
}

/** Whether `o` is a Kubernetes Secret (core group), whose values are never shown. */
export function isSecret(o: Obj): boolean {
  const k = objectKey(o);
  return k.group === '' && k.kind === 'Secret';
}

/**
 * Two versions of a Secret with their values replaced, for a text diff that must not show them:
 * every value of `data` and `stringData` (and the last-applied annotation) reads `(hidden)` on
 * the old side, and on the new side `(hidden)` when unchanged or `(hidden, changed)`. Other
 * objects are returned as they are.
 */
export function maskSecrets(from: Obj | undefined, to: Obj | undefined): [Obj | undefined, Obj | undefined] {
  if (!(from && isSecret(from)) && !(to && isSecret(to))) return [from, to];
  const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
  const mask = (o: Obj | undefined, other: Obj | undefined, newSide: boolean): Obj | undefined => {
    if (!o) return o;
    const out: Obj = { ...o };
    const hidden = (v: unknown, before: unknown) =>
      newSide && before !== undefined && !deepEqual(v, before) ? '(hidden, changed)' : '(hidden)';
    for (const field of ['data', 'stringData']) {
      const values = o[field];
      if (!isObj(values)) {
        if (values !== undefined) out[field] = hidden(values, other?.[field]);
        continue;
      }
      const before = isObj(other?.[field]) ? (other![field] as Obj) : {};
      out[field] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, hidden(v, newSide ? (before[k] ?? null) : undefined)]));
    }
    const meta = isObj(o.metadata) ? o.metadata : undefined;
    if (meta && isObj(meta.annotations) && LAST_APPLIED in meta.annotations) {
      const otherMeta = isObj(other?.metadata) && isObj(other.metadata.annotations) ? other.metadata.annotations : {};
      out.metadata = {
        ...meta,
        annotations: {
          ...meta.annotations,
          [LAST_APPLIED]: hidden(meta.annotations[LAST_APPLIED], newSide ? (otherMeta[LAST_APPLIED] ?? null) : undefined),
        },
      };
    }
    return out;
  };
  return [mask(from, to, false), mask(to, from, true)];
}

/** `apps/Deployment shop/web`, `/Namespace shop`: how an object is named in text. */
export function describeKey(k: ObjectKey): string {
  return `${k.group ? `${k.group}/` : ''}${k.kind} ${k.namespace ? `${k.namespace}/` : ''}${k.name}`;
}

/**
 * A value for one line of text, at most `max` characters: longer ones keep their start and end
 * and say how much was cut in the middle (never silently).
 */
export function middleTruncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = (n: number) => ` …[${n} characters cut]… `;
  const keep = Math.max(2, max - marker(text.length).length);
  const head = Math.ceil(keep / 2);
  const tail = Math.floor(keep / 2);
  return `${text.slice(0, head)}${marker(text.length - head - tail)}${text.slice(text.length - tail)}`;
}

/** A value as one line of JSON-ish text: strings as they are, others as JSON. */
export function valueText(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? 'null');
}

/**
 * Two long values cut to about `max` characters each so that the part where they differ stays
 * in view (a cut in the middle could hide the change itself); each cut says how much it left
 * out. Values that fit are returned whole.
 */
export function aroundDifference(a: string, b: string, max: number): [string, string] {
  if (a.length <= max && b.length <= max) return [a, b];
  let same = 0;
  while (same < a.length && same < b.length && a[same] === b[same]) same++;
  const keep = Math.max(10, max - 40);
  const start = Math.max(0, same - Math.floor(keep / 3));
  const cut = (t: string) => {
    const end = Math.min(t.length, start + keep);
    return `${start > 0 ? `…[${start} characters]… ` : ''}${t.slice(start, end)}${end < t.length ? ` …[${t.length - end} characters]…` : ''}`;
  };
  return [cut(a), cut(b)];
}

/** The diff as text for a terminal: one line per object and per changed field; values cut in the middle past `width`. */
export function formatSemanticDiff(d: ObjectDiff, width = 120): string {
  const lines: string[] = [];
  for (const k of d.added) lines.push(`+ ${describeKey(k)} (added)`);
  for (const k of d.removed) lines.push(`- ${describeKey(k)} (removed)`);
  for (const c of d.changed) {
    lines.push(`~ ${describeKey(c)}`);
    for (const f of c.changes) {
      const room = Math.max(20, width - f.path.length - 10);
      if (!('old' in f)) lines.push(`    + ${f.path}: ${middleTruncate(valueText(f.new), room)}`);
      else if (!('new' in f)) lines.push(`    - ${f.path}: ${middleTruncate(valueText(f.old), room)}`);
      else {
        const [was, is] = aroundDifference(valueText(f.old), valueText(f.new), room);
        lines.push(`    ~ ${f.path}:`);
        lines.push(`        - ${was}`);
        lines.push(`        + ${is}`);
      }
    }
  }
  const summary = `${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.unchanged} unchanged`;
  return `${lines.length ? `${lines.join('\n')}\n` : ''}${summary}\n`;
}
