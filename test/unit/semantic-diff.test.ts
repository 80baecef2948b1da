/**
 * Golden tests of src/core/semantic-diff.ts (issue #16 acceptance 4): reordered objects and
 * keys are no change; an omitted namespace is `default` for namespaced kinds and absent for
 * cluster-scoped ones; list items are matched by name or position; a Secret's values are never
 * shown; long values are cut in the middle, saying so.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  aroundDifference,
  diffObject,
  formatSemanticDiff,
  maskSecrets,
  middleTruncate,
  objectKey,
  semanticDiff,
} from '../../src/core/semantic-diff.js';

const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop, labels: { app.kubernetes.io/name: web, tier: front } }
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: shop/web:1.0
          args: [--port, "8080"]
          env: [{ name: A, value: "1" }, { name: B, value: "2" }]
        - name: sidecar
          image: envoy:1.30
`;

test('reordered objects, reordered keys and other formatting: no change', () => {
  const a = docs(`${DEPLOYMENT}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg }\ndata: { x: "1", y: "2" }\n`);
  const b = docs(`
apiVersion: v1
data:
  y: '2'
  x: "1"
metadata:
  name: cfg
kind: ConfigMap
---
kind: Deployment
spec:
  template:
    spec:
      containers:
        - image: envoy:1.30
          name: sidecar
        - env:
            - { value: "2", name: B }
            - { value: "1", name: A }
          image: shop/web:1.0
          name: web
          args: ["--port", "8080"]
  replicas: 2
metadata:
  labels: { tier: front, app.kubernetes.io/name: web }
  namespace: shop
  name: web
apiVersion: apps/v1
`);
  assert.deepEqual(semanticDiff(a, b), { added: [], removed: [], changed: [], unchanged: 2 });
});

test('namespace defaulting: omitted = default for namespaced kinds; cluster-scoped kinds have none', () => {
  const a = docs('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg }\ndata: { x: "1" }\n');
  const b = docs('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg, namespace: default }\ndata: { x: "2" }\n');
  const d = semanticDiff(a, b);
  assert.deepEqual(d.added, []);
  assert.deepEqual(d.removed, []);
  assert.deepEqual(d.changed, [
    {
      group: '',
      kind: 'ConfigMap',
      namespace: 'default',
      name: 'cfg',
      // writing out the namespace an omitted one defaults to is no change
      changes: [{ path: 'data.x', old: '1', new: '2' }],
    },
  ]);
  const spelledOut = docs('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg, namespace: default }\ndata: { x: "1" }\n');
  assert.deepEqual(semanticDiff(a, spelledOut), { added: [], removed: [], changed: [], unchanged: 1 });
  assert.deepEqual(objectKey({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' } }), {
    group: 'rbac.authorization.k8s.io',
    kind: 'ClusterRole',
    namespace: null,
    name: 'r',
  });
  assert.equal(objectKey({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', namespace: 'x' } }).namespace, null);
  // same name, different namespace or group: different objects
  const other = semanticDiff(a, docs('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg, namespace: shop }\ndata: { x: "1" }\n'));
  assert.deepEqual([other.added.map((k) => k.namespace), other.removed.map((k) => k.namespace)], [['shop'], ['default']]);
  const groups = semanticDiff(
    docs('apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n'),
    docs('apiVersion: example.org/v1\nkind: Widget\nmetadata: { name: w }\n'),
  );
  assert.deepEqual([groups.added[0].group, groups.removed[0].group], ['example.org', 'example.com']);
  // a version change within one group is the same object, changed
  const version = semanticDiff(
    docs('apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: { name: h }\n'),
    docs('apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: h }\n'),
  );
  assert.deepEqual(version.changed[0].changes, [{ path: 'apiVersion', old: 'autoscaling/v1', new: 'autoscaling/v2' }]);
});

test('changed list items: by name wherever they stand, by position otherwise; added and removed items', () => {
  const [a] = docs(DEPLOYMENT);
  const [b] = docs(
    DEPLOYMENT.replace('image: shop/web:1.0', 'image: shop/web:1.1')
      .replace('args: [--port, "8080"]', 'args: [--port, "9090", --verbose]')
      .replace('{ name: B, value: "2" }', '{ name: C, value: "3" }, { name: A, value: "1" }')
      .replace('env: [{ name: A, value: "1" }, ', 'env: [')
      .replace('replicas: 2', 'replicas: 3'),
  );
  assert.deepEqual(diffObject(a, b), [
    { path: 'spec.replicas', old: 2, new: 3 },
    { path: 'spec.template.spec.containers[name=web].args[1]', old: '8080', new: '9090' },
    { path: 'spec.template.spec.containers[name=web].args[2]', new: '--verbose' },
    { path: 'spec.template.spec.containers[name=web].env[name=B]', old: { name: 'B', value: '2' } },
    { path: 'spec.template.spec.containers[name=web].env[name=C]', new: { name: 'C', value: '3' } },
    { path: 'spec.template.spec.containers[name=web].image', old: 'shop/web:1.0', new: 'shop/web:1.1' },
  ]);
  // keys that are not identifiers are quoted; a number and its text are different values
  const [c] = docs('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, labels: { app.kubernetes.io/name: x } }\ndata: { port: "80" }\n');
  const [d] = docs('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, labels: { app.kubernetes.io/name: y } }\ndata: { port: 80 }\n');
  assert.deepEqual(diffObject(c, d), [
    { path: 'data.port', old: '80', new: 80 },
    { path: 'metadata.labels["app.kubernetes.io/name"]', old: 'x', new: 'y' },
  ]);
});

test('a Secret’s values are never shown, only that they changed; its other fields are', () => {
  const a = docs(
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  labels: { v: "1" }\n  annotations: { kubectl.kubernetes.io/last-applied-configuration: "{\\"data\\":{\\"password\\":\\"czNjcjN0\\"}}" }\ndata: { password: czNjcjN0, user: YWRtaW4= }\nstringData: { token: hunter2 }\n',
  );
  const b = docs(
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  labels: { v: "2" }\n  annotations: { kubectl.kubernetes.io/last-applied-configuration: "{\\"data\\":{\\"password\\":\\"bmV3cGFzcw==\\"}}" }\ndata: { password: bmV3cGFzcw==, api-key: a2V5 }\ntype: Opaque\n',
  );
  const d = semanticDiff(a, b);
  const text = JSON.stringify(d) + formatSemanticDiff(d);
  for (const secret of ['czNjcjN0', 'YWRtaW4=', 'hunter2', 'bmV3cGFzcw==', 'a2V5']) assert.ok(!text.includes(secret), secret);
  assert.deepEqual(d.changed[0].changes, [
    { path: 'data.api-key', new: '(hidden)' },
    { path: 'data.password', old: '(hidden)', new: '(hidden)' },
    { path: 'data.user', old: '(hidden)' },
    { path: 'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]', old: '(hidden)', new: '(hidden)' },
    { path: 'metadata.labels.v', old: '1', new: '2' },
    { path: 'stringData', old: '(hidden)' },
    { path: 'type', new: 'Opaque' },
  ]);
  // a ConfigMap's data is shown
  assert.deepEqual(
    diffObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'x' } }, { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'y' } }),
    [{ path: 'data.a', old: 'x', new: 'y' }],
  );
  // a Secret of another API group is not a Kubernetes Secret
  assert.deepEqual(
    diffObject(
      { apiVersion: 'example.com/v1', kind: 'Secret', data: { a: 'x' } },
      { apiVersion: 'example.com/v1', kind: 'Secret', data: { a: 'y' } },
    ),
    [{ path: 'data.a', old: 'x', new: 'y' }],
  );
});

test('added and removed objects; the text form cuts long values and says how much', () => {
  const long = 'x'.repeat(500);
  const a = docs(
    `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata: { v: short }\n---\napiVersion: v1\nkind: Service\nmetadata: { name: gone }\n`,
  );
  const b = docs(
    `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata: { v: ${long} }\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n`,
  );
  const d = semanticDiff(a, b);
  assert.deepEqual(d.added, [{ group: '', kind: 'Namespace', namespace: null, name: 'shop' }]);
  assert.deepEqual(d.removed, [{ group: '', kind: 'Service', namespace: 'default', name: 'gone' }]);
  const text = formatSemanticDiff(d, 80);
  assert.match(text, /^\+ Namespace shop \(added\)$/m);
  assert.match(text, /^- Service default\/gone \(removed\)$/m);
  assert.match(text, /^~ ConfigMap default\/a$/m);
  // cut where the two values part (here at once), saying how much is left out
  assert.match(text, /\+ "x+ …\[\d+ characters\]…$/m);
  assert.match(text, /1 added, 1 removed, 1 changed, 0 unchanged\n$/);
  for (const line of text.split('\n')) assert.ok(line.length <= 100, line);
  assert.equal(middleTruncate('short', 10), 'short');
  const cut = middleTruncate('a'.repeat(50) + 'b'.repeat(50), 40);
  assert.ok(cut.startsWith('aaaa') && cut.endsWith('bbbb') && cut.includes('characters cut'), cut);
  assert.ok(cut.length <= 40, cut);
});

test('maskSecrets: a text diff of Secrets shows which values changed, never the values', () => {
  const a = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { same: 'AAAA', changed: 'BBBB', gone: 'CCCC' } };
  const b = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    data: { same: 'AAAA', changed: 'DDDD', added: 'EEEE' },
    stringData: 'odd',
  };
  const [ma, mb] = maskSecrets(a, b);
  assert.deepEqual(ma!.data, { same: '(hidden)', changed: '(hidden)', gone: '(hidden)' });
  assert.deepEqual(mb!.data, { same: '(hidden)', changed: '(hidden, changed)', added: '(hidden, changed)' });
  assert.equal(mb!.stringData, '(hidden)');
  assert.ok(!JSON.stringify([ma, mb]).match(/AAAA|BBBB|CCCC|DDDD|EEEE|odd/));
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'x' } };
  assert.deepEqual(maskSecrets(cm, cm), [cm, cm]);
});

test('long values are cut around where they differ, so the change stays in view, and every cut says how much it left out', () => {
  const a = `${'x'.repeat(300)}A${'y'.repeat(300)}`;
  const b = `${'x'.repeat(300)}B${'y'.repeat(300)}`;
  const [was, is] = aroundDifference(a, b, 100);
  assert.notEqual(was, is);
  assert.match(was, /^…\[\d+ characters\]… x+Ay+ …\[\d+ characters\]…$/);
  assert.match(is, /^…\[\d+ characters\]… x+By+ …\[\d+ characters\]…$/);
  const text = formatSemanticDiff({
    added: [],
    removed: [],
    unchanged: 0,
    changed: [{ group: '', kind: 'ConfigMap', namespace: 'default', name: 'c', changes: [{ path: 'data.long', old: a, new: b }] }],
  });
  assert.match(text, /- .*A/);
  assert.match(text, /\+ .*B/);
  assert.deepEqual(aroundDifference('short', 'shirt', 100), ['short', 'shirt']);
});
