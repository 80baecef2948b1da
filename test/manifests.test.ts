import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateResources } from '../src/core/manifests.js';
import { resourcePath } from '../src/core/release-image.js';

const dep = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, ...extra },
});

test('valid objects pass', () => {
  assert.deepEqual(
    validateResources([dep('api'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'api.config', namespace: 'prod' } }]),
    [],
  );
});

test('apiVersion, kind and metadata.name are required, names are DNS-1123', () => {
  const problems = validateResources([
    { kind: 'Deployment', metadata: { name: 'a' } },
    { apiVersion: 'v1', metadata: { name: 'b' } },
    { apiVersion: 'v1', kind: 'ConfigMap' },
    dep('Bad_Name'),
    dep('ok', { namespace: 'Not.A.Label' }),
    'not an object',
    dep('x'.repeat(254)),
  ]);
  assert.deepEqual(
    problems.map((p) => p.path),
    [
      'resources[0].apiVersion',
      'resources[1].kind',
      'resources[2].metadata',
      'resources[3].metadata.name',
      'resources[4].metadata.namespace',
      'resources[5]',
      'resources[6].metadata.name',
    ],
  );
  assert.match(problems[3].message, /DNS-1123/);
});

test('duplicates of (group, kind, namespace, name) are refused naming both indexes; differing in any part is fine', () => {
  const problems = validateResources(
    [
      dep('api'),
      dep('api', { namespace: 'other' }),
      { ...dep('api'), apiVersion: 'extensions/v1beta1' },
      { ...dep('api'), kind: 'StatefulSet' },
      dep('api'),
      // another version of the same group is the same object (apps/v1 and apps/v1beta2)
      { ...dep('api', { namespace: 'other' }), apiVersion: 'apps/v1beta2' },
    ],
    'deployment.resources',
  );
  assert.deepEqual(problems, [
    {
      path: 'deployment.resources[4]',
      message:
        'duplicate of deployment.resources[0]: Deployment "api" in namespace "default" (apps API group) appears twice (an omitted namespace is "default"; the versions of one group are one object)',
    },
    {
      path: 'deployment.resources[5]',
      message:
        'duplicate of deployment.resources[1]: Deployment "api" in namespace "other" (apps API group) appears twice (an omitted namespace is "default"; the versions of one group are one object)',
    },
  ]);
  // HorizontalPodAutoscaler v1 and v2 of one name too
  const hpa = (apiVersion: string) => ({ apiVersion, kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' } });
  assert.equal(validateResources([hpa('autoscaling/v1'), hpa('autoscaling/v2')], 'resources')[0]?.path, 'resources[1]');
});

test('an empty namespace is an omitted one, as Kubernetes reads it: accepted, and the same object as "default"', () => {
  assert.deepEqual(validateResources([dep('api', { namespace: '' })], 'resources'), []);
  const problems = validateResources([dep('api', { namespace: '' }), dep('api', { namespace: 'default' })], 'resources');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /^duplicate of resources\[0\]: Deployment "api" in namespace "default"/);
  // and it names no folder of its own in the release
  assert.equal(resourcePath(dep('api', { namespace: '' })), resourcePath(dep('api')));
});

test('two identical hooks made by generateName are a duplicate naming both indexes; hooks that differ are fine', () => {
  const hook = (arg: string, namespace?: string) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { generateName: 'migrate-', annotations: { 'argocd.argoproj.io/hook': 'PreSync' }, ...(namespace ? { namespace } : {}) },
    spec: { template: { spec: { containers: [{ name: 'm', image: 'x', args: [arg] }] } } },
  });
  assert.deepEqual(validateResources([hook('up'), hook('seed')], 'resources'), []);
  for (const [a, b] of [
    [hook('up'), hook('up')],
    [hook('up'), hook('up', 'default')],
  ]) {
    const problems = validateResources([dep('api'), a, b], 'resources');
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0]!.path, 'resources[2]');
    assert.match(problems[0]!.message, /^duplicate of resources\[1\]: the two are the same Job made by generateName "migrate-"/);
  }
});
