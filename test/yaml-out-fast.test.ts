import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fastYaml, libraryYaml, toYaml } from '../src/core/yaml-out.js';

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
const str = fc.oneof(
  fc.array(fc.constantFrom(...pieces), { maxLength: 6 }).map((a) => a.join('')),
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
