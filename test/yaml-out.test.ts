/**
 * Every byte of YAML Forge writes reads back with the same types and values under YAML 1.1
 * and YAML 1.2 (issue 19 item 3). YAML 1.1 is read by a real YAML 1.1 parser, Debian's
 * PyYAML (python3-yaml, the resolver rules libyaml-based readers and sigs.k8s.io/yaml follow);
 * YAML 1.2 by the `yaml` package. Covered: the writer itself (a corpus of ambiguous scalars,
 * then generated values), and the places that use it: `GET …/resources` (the resources
 * layer the plugin passes on), `forge cmp generate`'s stream, and `forge render`'s stream.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { resourceStream } from '../src/cmp/stream.js';
import { flattenResources, validateResources } from '../src/core/manifests.js';
import { parsePointer, renderPointer } from '../src/core/pointer.js';
import { resourceYaml } from '../src/core/release-image.js';
import { toYaml, toYamlStream } from '../src/core/yaml-out.js';
import { yamlStream } from '../src/pipeline/render.js';
import { type Forge, releaseBody, sha, startForge } from './support/forge.js';

/** The documents of a YAML stream as YAML 1.1 reads them (PyYAML's safe loader), as JSON. */
function readYaml11(stream: string): unknown[] {
  const py = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      'import sys, json, yaml\nout = [d for d in yaml.safe_load_all(sys.stdin.read())]\nprint(json.dumps(out, default=lambda o: {"__not_json__": repr(o)}))',
    ],
    { input: stream, encoding: 'utf8' },
  );
  assert.equal(py.status, 0, `PyYAML failed: ${py.stderr}`);
  return JSON.parse(py.stdout);
}

function readYaml12(stream: string): unknown[] {
  const docs = parseAllDocuments(stream, { version: '1.2', schema: 'core' });
  return (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS());
}

/** Ambiguous plain scalars of YAML 1.1 and 1.2 (booleans, nulls, numbers in every base, sexagesimals, timestamps, keys). */
export const AMBIGUOUS = [
  'yes',
  'Yes',
  'YES',
  'no',
  'No',
  'NO',
  'y',
  'Y',
  'n',
  'N',
  'on',
  'On',
  'ON',
  'off',
  'Off',
  'OFF',
  'true',
  'True',
  'TRUE',
  'false',
  'False',
  'FALSE',
  'null',
  'Null',
  'NULL',
  '~',
  '',
  '0',
  '1',
  '-1',
  '+1',
  '007',
  '010',
  '0o17',
  '0x1F',
  '0X1f',
  '0b1010',
  '1_000',
  '1_0.5',
  '-1_000',
  '0b1_0',
  '1:20',
  '190:20:30',
  '-1:30',
  '1:30.5',
  '1.5',
  '.5',
  '-.5',
  '1.',
  '1e3',
  '1E3',
  '1e+3',
  '1.0e-3',
  '6.8523015e+5',
  '.inf',
  '-.inf',
  '+.Inf',
  '.INF',
  '.nan',
  '.NaN',
  '.NAN',
  '2001-12-14',
  '2001-12-14t21:59:43.10-05:00',
  '2001-12-14 21:59:43.10 -5',
  '2002-12-14',
  '=',
  '<<',
  '1.2.3',
  '0.0.0.0',
  '12:34:56',
  '1_2_3',
  '0777',
  '+12',
  '-0',
  '0.',
  '- x',
  '? x',
  ': x',
  '# x',
  '@x',
  '`x',
  '!x',
  '&x',
  '*x',
  '%x',
  '|',
  '>',
  '"',
  "'",
  'a: b',
  'a #b',
  'x\ny',
  ' lead',
  'trail ',
  '\t',
  'ünïcødé',
  '😀',
  'NaN',
  'Infinity',
  // characters YAML 1.1 readers refuse, or take for line breaks (issue 19 review)
  'x\u0085y',
  'x\u2028y',
  'q\u2029r',
  'a\u007fb',
  '\ufeffz',
  'a\u0001b',
  'x\u009fy',
  'x\ufffey',
  'x\uffffy',
  'tab\there',
  'a\rb',
  'a\u001bb',
  ' \n',
  'a\n  \nb',
];

describe('the writer', () => {
  test('every ambiguous scalar, as value, key and list item, reads back as the same string under YAML 1.1 and 1.2', () => {
    const value = {
      data: Object.fromEntries(AMBIGUOUS.map((s) => [s, s])),
      list: AMBIGUOUS,
      nested: [{ labels: { no: 'no', on: 'on' } }],
      types: { int: 3, float: 1.5, bool: true, nil: null, big: 9007199254740991, neg: -42 },
    };
    const text = toYaml(value, { sortKeys: true });
    assert.deepEqual(readYaml11(text), [value], 'YAML 1.1');
    assert.deepEqual(readYaml12(text), [value], 'YAML 1.2');
  });
  test('generated strings and objects read back the same under both versions', () => {
    const key = fc.oneof(fc.constantFrom(...AMBIGUOUS), fc.string({ maxLength: 12 }));
    const leaf = fc.oneof(
      fc.constantFrom(...AMBIGUOUS),
      fc.string({ maxLength: 20 }),
      fc.stringMatching(/^[-+.0-9:_eExXoObBa-zA-Z ]{1,12}$/),
      fc.string({
        unit: fc.constantFrom(
          'a',
          ' ',
          '\t',
          '\n',
          '\r',
          '\u0085',
          '\u2028',
          '\u2029',
          '\u007f',
          '\ufeff',
          '\u0001',
          '\u009f',
          '\ufffe',
          '\u00a0',
        ),
        maxLength: 8,
      }),
      // longer multi-line text with lines of blanks (the yaml package's multi-line double quotes
      // once escaped a lone space twice: "a\n \nb" read back "a\n\\ \nb")
      fc
        .array(fc.constantFrom('', ' ', '  ', '\t', 'line', 'a ', ' a', '1_000', '---'), { minLength: 3, maxLength: 14 })
        .map((lines) => lines.join('\n')),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    // One PyYAML process for all samples: a stream of documents; with fixed cases first.
    const fixed = [{ text: `${'word '.repeat(8)}\n \nend` }, { list: ['app    \n \n', ' \n  \n\t\n'] }];
    const samples = [...fixed, ...fc.sample(fc.dictionary(key, tree, { maxKeys: 6 }), 300)].filter(
      (v) => !JSON.stringify(v).includes('\\u0000'),
    );
    const stream = toYamlStream(samples, { sortKeys: true });
    const normal = JSON.parse(JSON.stringify(samples));
    assert.deepEqual(readYaml11(stream), normal, 'YAML 1.1');
    assert.deepEqual(readYaml12(stream), normal, 'YAML 1.2');
  });
  test('numbers JavaScript writes in exponent form stay numbers under YAML 1.1 (PyYAML needs a fraction: 1.0e+308)', () => {
    const numbers = { big: 1e308, small: 1e-7, negative: -1e21, tiny: 5e-324, wide: 1.2345678901234568e29, whole: 12, half: 1.5 };
    const text = toYaml(numbers);
    assert.deepEqual(readYaml11(text), [numbers]);
    assert.deepEqual(readYaml12(text), [numbers]);
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const doc = toYaml({ n });
        assert.deepEqual(readYaml12(doc), [{ n: Object.is(n, -0) ? -0 : n }]);
        return true;
      }),
      { numRuns: 200 },
    );
  });

  test('pointer files: names a YAML 1.1 reader takes for booleans or numbers are quoted (yes, on, no, off, 1e5)', () => {
    for (const name of ['yes', 'on', 'no', 'off', 'y', 'n', 'true', 'null', '1e5', '0x1f', '1-2']) {
      const pointer = {
        repository: 'acme/mono',
        project: name,
        environment: name,
        release: 'a'.repeat(40),
        digest: `sha256:${'b'.repeat(64)}`,
        releaseNumber: 1,
        aliases: ['1'],
        deploymentId: 'd',
        deployedBy: 'me@example.com',
        deployedAt: '2026-11-30T00:00:00Z',
        approvedBy: [],
      };
      const [doc] = readYaml11(renderPointer(pointer)) as { metadata: { name: unknown }; spec: Record<string, unknown> }[];
      assert.equal(doc?.metadata.name, name, name);
      assert.equal(doc?.spec.project, name, name);
      assert.equal(doc?.spec.environment, name, name);
      assert.deepEqual(parsePointer(renderPointer(pointer)), pointer);
    }
  });

  test('a value used twice is written twice: no anchors or aliases', () => {
    const shared = { a: 'yes' };
    const text = toYaml({ one: shared, two: shared });
    assert.doesNotMatch(text, /[&*]/);
    assert.deepEqual(readYaml11(text), [{ one: { a: 'yes' }, two: { a: 'yes' } }]);
  });
});

const tricky = () => [
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'flags', labels: { enabled: 'no', tier: 'on' }, annotations: { count: '1_000' } },
    data: Object.fromEntries(AMBIGUOUS.filter((s) => s !== '').map((s, i) => [`k${i}`, s])),
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api' },
    spec: { replicas: 2, template: { metadata: { labels: { on: 'yes' } } } },
  },
];

describe('what Forge writes', () => {
  test('the resources layer files, the render stream and the plugin stream', () => {
    const objects = tricky();
    for (const [what, text] of [
      ['resourceYaml', objects.map((o) => `---\n${resourceYaml(o)}`).join('')],
      ['forge render (yamlStream)', yamlStream(objects)],
      [
        'forge cmp generate (resourceStream)',
        resourceStream(
          objects.map((o, i) => ({ path: `${i}.yaml`, yaml: resourceYaml(o) })),
          (p) => p,
        ),
      ],
    ] as const) {
      const sorted = what.startsWith('forge cmp') ? [objects[0], objects[1]] : objects;
      assert.deepEqual(readYaml11(text), sorted, `${what}: YAML 1.1`);
      assert.deepEqual(readYaml12(text), sorted, `${what}: YAML 1.2`);
    }
  });
  test('the plugin re-quotes a file an older server wrote plain, and refuses aliases', () => {
    const old = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: yes\n  b: 1_000\n  c: on\n';
    const out = resourceStream([{ path: 'c.yaml', yaml: old }], (p) => p);
    assert.deepEqual(readYaml11(out), [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'yes', b: '1_000', c: 'on' } },
    ]);
    const aliased = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: &d\n  a: x\nextra: *d\n';
    assert.throws(() => resourceStream([{ path: 'c.yaml', yaml: aliased }], (p) => p), /not valid YAML.*[Aa]lias/);
  });

  describe('GET …/resources of a registered release', () => {
    let forge: Forge;
    let token: string;
    before(async () => {
      forge = await startForge();
      token = await forge.token(['service-account', 'operator']);
    });
    after(() => forge.stop());
    test('reads back the same under YAML 1.1 and 1.2', async () => {
      const objects = tricky();
      const created = await forge.api('POST', '/releases', releaseBody({ resources: objects }, sha(41)), token);
      assert.equal(created.status, 201, created.text);
      const res = await fetch(`${forge.url}/api/v1/releases/acme/mono/auth-service/1/resources`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/yaml' },
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const byName = (docs: unknown[]) =>
        [...(docs as { metadata: { name: string } }[])].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
      assert.deepEqual(byName(readYaml11(text)), byName(objects), 'YAML 1.1');
      assert.deepEqual(byName(readYaml12(text)), byName(objects), 'YAML 1.2');
    });
  });
});

describe('validation follows Kubernetes and Argo CD', () => {
  const cm = (name: string, namespace?: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...(namespace ? { namespace } : {}) },
  });
  test('a hook Job with only generateName is accepted; without the hook annotation it is refused with the reason', () => {
    const hook = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { generateName: 'migrate-', annotations: { 'argocd.argoproj.io/hook': 'PreSync' } },
    };
    assert.deepEqual(validateResources([hook, { ...hook, metadata: { ...hook.metadata, generateName: 'seed-' } }]), []);
    const plain = { apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'migrate-' } };
    const problems = validateResources([plain]);
    assert.equal(problems[0]?.path, 'resources[0].metadata.generateName');
    assert.match(problems[0]!.message, /hook/);
    assert.equal(
      validateResources([{ ...hook, metadata: { ...hook.metadata, generateName: 'Bad_' } }])[0]?.path,
      'resources[0].metadata.generateName',
    );
  });
  test('a List (and nested Lists) is flattened; a bad item is named by its place in the list', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [cm('a'), { apiVersion: 'v1', kind: 'ConfigMapList', items: [cm('b')] }] };
    assert.deepEqual(validateResources([list, cm('c')]), []);
    assert.deepEqual(
      flattenResources([list, cm('c')]).map((o) => (o as { metadata: { name: string } }).metadata.name),
      ['a', 'b', 'c'],
    );
    const bad = { apiVersion: 'v1', kind: 'List', items: [cm('a'), cm('A')] };
    assert.equal(validateResources([bad])[0]?.path, 'resources[0].items[1].metadata.name');
  });
  test('duplicates after namespace defaulting are refused, naming both indexes', () => {
    for (const [a, b] of [
      [cm('x'), cm('x', 'default')],
      [cm('x', 'default'), cm('x')],
      [cm('x'), cm('x')],
    ]) {
      const problems = validateResources([a, cm('other'), b]);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.path, 'resources[2]');
      assert.match(problems[0]!.message, /resources\[0\]/);
    }
    assert.deepEqual(validateResources([cm('x'), cm('x', 'other')]), []);
    const inList = validateResources([cm('x'), { apiVersion: 'v1', kind: 'List', items: [cm('x', 'default')] }]);
    assert.equal(inList[0]?.path, 'resources[1].items[0]');
  });
  test('through the API: a List and a hook are registered; the duplicate is a 400 naming both', async () => {
    const forge = await startForge();
    try {
      const token = await forge.token(['service-account']);
      const hook = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { generateName: 'migrate-', annotations: { 'argocd.argoproj.io/hook': 'PreSync' } },
        spec: {},
      };
      const ok = await forge.api(
        'POST',
        '/releases',
        releaseBody({ resources: [{ apiVersion: 'v1', kind: 'List', items: [cm('a'), cm('b')] }, hook] }, sha(51)),
        token,
      );
      assert.equal(ok.status, 201, ok.text);
      const stored = await forge.api('GET', '/releases/acme/mono/auth-service/1/resources', undefined, token, {
        accept: 'application/json',
      });
      assert.equal(stored.status, 200, stored.text);
      const items: { kind: string; metadata: { generateName?: string } }[] = stored.body.items ?? stored.body.resources ?? stored.body;
      assert.deepEqual(items.map((r) => r.kind).sort(), ['ConfigMap', 'ConfigMap', 'Job'], stored.text);
      assert.equal(items.find((r) => r.kind === 'Job')?.metadata.generateName, 'migrate-');
      const dup = await forge.api('POST', '/releases', releaseBody({ resources: [cm('x'), cm('x', 'default')] }, sha(52)), token);
      assert.equal(dup.status, 400, dup.text);
      assert.match(dup.text, /resources\[1\].*resources\[0\]/);
    } finally {
      await forge.stop();
    }
  });
});
