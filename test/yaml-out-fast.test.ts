import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as yamlLib from 'yaml';
import { resourceStream } from '../src/cmp/stream.js';
import { ForgeError } from '../src/core/errors.js';
import { PointerError, parsePointer } from '../src/core/pointer.js';
import { resourceYaml } from '../src/core/release-image.js';
import { fastYaml, libraryYaml, toYaml } from '../src/core/yaml-out.js';
import { rereadOwnYaml } from '../src/core/yaml-reread.js';

const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i));
const pieces = [
  ...printable,
  ': ',
  ' #',
  '-',
  '?',
  '*',
  '&',
  '!',
  '%',
  '@',
  '`',
  'yes',
  '1_000',
  '0x1F',
  '1e5',
  '2024-01-01',
  'app',
  '---',
  '...',
  '\n',
  'é',
];
/** Multi-line strings (ConfigMap files, scripts): lines of pieces, empty lines, blanks at either end, 0–3 final line feeds. */
const multiLine = fc
  .tuple(
    fc.array(
      fc.array(fc.constantFrom(...pieces.filter((p) => p !== '\n'), '', '  ', '\t', '\u00a0', '\u2028', '\u0085', 'ü'), { maxLength: 5 }),
      { minLength: 2, maxLength: 5 },
    ),
    fc.constantFrom('', '\n', '\n\n', '\n\n\n', ' ', ' \n'),
  )
  .map(([lines, end]) => lines.map((l) => l.join('')).join('\n') + end);
const str = fc.oneof(
  fc.array(fc.constantFrom(...pieces), { maxLength: 6 }).map((a) => a.join('')),
  multiLine,
  fc.constantFrom('', 'yes', 'No', '1_000', '0x1F', '1e5', '2024-01-01', '128Mi', '500m', 'nginx:1.25', 'a: b', 'a #b', '-x', '~', 'null'),
  fc.string({ maxLength: 8 }),
);
const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 1e21, 1e-7, 1e308, 5e-324, 0.1, -1.5));
const scalar = fc.oneof(str, num, fc.boolean(), fc.constant(null));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, scalar, tie('arr'), tie('obj')),
  arr: fc.array(tie('v'), { maxLength: 4 }),
  obj: fc.dictionary(str, tie('v'), { maxKeys: 5 }),
}));
const root = value.obj;

test('fast path prints exactly what the yaml package prints', () => {
  let fast = 0;
  for (const sortKeys of [true, false]) {
    fc.assert(
      fc.property(root, (v) => {
        const f = fastYaml(v, { sortKeys });
        if (f !== undefined) {
          fast++;
          assert.equal(f, libraryYaml(v, { sortKeys }));
        }
        assert.equal(toYaml(v, { sortKeys }), libraryYaml(v, { sortKeys }));
      }),
      { numRuns: 3000 },
    );
  }
  assert.ok(fast > 100, `fast path taken ${fast} times`);
});

test('fast path prints multi-line strings (literal blocks) exactly as the yaml package does, in maps and lists at any depth', () => {
  let blocks = 0;
  // beside the block, keys and values the direct emitter takes, so that most cases reach it
  const rest = fc.dictionary(fc.constantFrom('a', 'b', 'yes', 'x.y'), fc.oneof(fc.integer(), fc.constantFrom('x', 'no', '128Mi')), {
    maxKeys: 3,
  });
  const withBlock = fc
    .tuple(multiLine, rest, fc.constantFrom('map', 'list', 'nested'))
    .map(([text, rest, where]) =>
      where === 'map'
        ? { ...rest, data: text }
        : where === 'list'
          ? { ...rest, args: [text, 'x', text] }
          : { spec: [{ a: { b: text } }], rest },
    );
  fc.assert(
    fc.property(withBlock, (v) => {
      const f = fastYaml(v, { sortKeys: true });
      if (f !== undefined) {
        if (f.includes(': |') || f.includes('- |')) blocks++;
        assert.equal(f, libraryYaml(v, { sortKeys: true }));
      }
    }),
    { numRuns: 3000 },
  );
  assert.ok(blocks > 300, `literal blocks written directly ${blocks} times`);
});

test('a ConfigMap with a file in it is written directly, as the yaml package writes it', () => {
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings' },
    data: {
      'app.yaml': 'replicas: 3\nregion: eu-west-1\n\nflags: [a, b]\n',
      'run.sh': '#!/bin/sh\nexec "$@" # with \\ and "quotes"',
      'big.txt': `${'line of text\n'.repeat(50_000)}end\n`,
    },
  };
  const f = fastYaml(cm, { sortKeys: true });
  assert.notEqual(f, undefined);
  assert.equal(f, libraryYaml(cm, { sortKeys: true }));
  assert.match(f!, /^ {2}app\.yaml: \|\n {4}replicas: 3\n {4}region: eu-west-1\n\n {4}flags: \[a, b\]\n/m);
});

test('fast path taken for a typical Deployment', () => {
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web-1', namespace: 'prod', labels: { 'app.kubernetes.io/name': 'web', tier: 'frontend' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: {} },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'registry.example.com/web@sha256:0123abcd',
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: [
                { name: 'FLAG', value: 'true' },
                { name: 'N', value: '10' },
              ],
              resources: { limits: { cpu: '500m', memory: '128Mi' } },
              args: [],
            },
          ],
        },
      },
    },
  };
  const f = fastYaml(d, { sortKeys: true });
  assert.notEqual(f, undefined);
  assert.equal(f, libraryYaml(d, { sortKeys: true }));
});

test('what the direct emitter prints is read back to the same value without a YAML parser', () => {
  let reread = 0;
  for (const sortKeys of [true, false]) {
    fc.assert(
      fc.property(
        fc.oneof(
          root,
          fc.tuple(multiLine, root).map(([text, rest]) => ({ ...rest, data: { file: text }, list: [text, { k: text }] })),
        ),
        (v) => {
          const text = fastYaml(v, { sortKeys });
          if (text === undefined) return;
          const back = rereadOwnYaml(text, { sortKeys });
          assert.notEqual(back, undefined, `not read back: ${JSON.stringify(text)}`);
          reread++;
          assert.deepEqual(back, yamlLib.parse(text));
        },
      ),
      { numRuns: 3000 },
    );
  }
  assert.ok(reread > 500, `read back ${reread} times`);
});

test('text the direct emitter would not print is not read back: anchors, comments, duplicate keys, other layouts, escapes', () => {
  for (const text of [
    'a: &x 1\nb: *x\n',
    'a: 1 # comment\n',
    'a: 1\na: 2\n',
    'a:   1\n',
    'a:\n    b: 1\n',
    'a: "x\\ty"\n',
    "a: 'single'\n",
    'a: yes\n',
    'a: 1_000\n',
    'a: |+\n  x\n\n',
    'a: >\n  folded\n',
    'b: 1\na: 2\n',
    'a: [1, 2]\n',
    '__proto__: 1\n',
    'a: 1',
    '- 1\n',
    'a: !!str 1\n',
    'a:\n- 1\n',
  ]) {
    const back = rereadOwnYaml(text, { sortKeys: true });
    assert.equal(back, undefined, `${JSON.stringify(text)} read as ${JSON.stringify(back)}`);
  }
});

test("the plugin's stream is the same whether a file is read back as Forge's own or parsed (the same objects as JSON)", () => {
  const object = fc.tuple(root, fc.oneof(multiLine, str)).map(([rest, text]) => ({
    ...rest,
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'c', namespace: 'n' },
    data: { file: text },
  }));
  fc.assert(
    fc.property(fc.array(object, { minLength: 1, maxLength: 3 }), (objects) => {
      const own = resourceStream(
        objects.map((o, i) => ({ path: `${i}.yaml`, yaml: resourceYaml(o) })),
        (p) => p,
      );
      const parsed = resourceStream(
        objects.map((o, i) => ({ path: `${i}.json`, yaml: JSON.stringify(o) })),
        (p) => p,
      );
      assert.equal(own, parsed);
    }),
    { numRuns: 1000 },
  );
});

test('deep nesting is left to the parser: the same verdict on either path, and no input exhausts the stack', () => {
  const verdict = (yaml: string) => {
    try {
      resourceStream([{ path: 'a.yaml', yaml }], (p) => p);
      return 'accepted';
    } catch (err) {
      assert.ok(err instanceof ForgeError, `not a validation error: ${err}`);
      return (err as Error).message.replace(/\(\d+:\d+\)/, '');
    }
  };
  for (let depth = 90; depth <= 110; depth++) {
    let data: unknown = 'x';
    for (let i = 0; i < depth; i++) data = depth % 2 ? [data] : { k: data };
    const text = resourceYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
    // a comment keeps the same text off the own-layout path
    assert.equal(verdict(text), verdict(`# c\n${text}`), `depth ${depth}`);
  }
  for (const deep of [`k: ${'- '.repeat(200_000)}x\n`, `k: ${'a: '.repeat(100_000)}x\n`, `k:\n  ${'- '.repeat(3000)}x\n`]) {
    assert.equal(rereadOwnYaml(`apiVersion: v1\nkind: C\n${deep}`), undefined);
    assert.match(verdict(`apiVersion: v1\nkind: C\n${deep}`), /not valid YAML/);
    assert.throws(() => parsePointer(deep), PointerError);
  }
});
