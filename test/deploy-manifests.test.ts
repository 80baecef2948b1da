/**
 * deploy/: every YAML file parses; kinds and the fields Kubernetes and Argo CD need are there
 * and agree with each other and with the code (bin names, pointer layout, CRD schema vs the
 * pointer files the GitOps writer renders).
 */

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { parsePlatformConfig } from '../src/core/platform-config.js';
import { POINTER_API_VERSION, POINTER_KIND, pointerPath, renderPointer } from '../src/core/pointer.js';
import { pointerFor } from './support/cmp.js';
import { REPO_ROOT } from './support/forge.js';

const DEPLOY = join(REPO_ROOT, 'deploy');
type Obj = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

function load(rel: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY, rel), 'utf8'));
  for (const d of docs) assert.deepEqual(d.errors, [], `${rel}: ${d.errors.map((e) => e.message).join('; ')}`);
  return docs.map((d) => d.toJS() as Obj).filter((d) => d != null);
}

function one(rel: string, apiVersion: string, kind: string): Obj {
  const docs = load(rel);
  assert.equal(docs.length, 1, `${rel} holds one document`);
  assert.equal(docs[0]!.apiVersion, apiVersion, `${rel} apiVersion`);
  assert.equal(docs[0]!.kind, kind, `${rel} kind`);
  return docs[0]!;
}

const EXPECTED_KINDS: Record<string, string> = {
  'argocd/plugin.yaml': 'argoproj.io/v1alpha1 ConfigManagementPlugin',
  'argocd/repo-server-patch.yaml': 'apps/v1 Deployment',
  'argocd/releasepointer-crd.yaml': 'apiextensions.k8s.io/v1 CustomResourceDefinition',
  'argocd/settings.yaml': 'v1 ConfigMap',
  'argocd/notifications-forge.yaml': 'v1 ConfigMap',
  'argocd/kustomization.yaml': 'kustomize.config.k8s.io/v1alpha1 Component',
  'argocd-environment/kustomization.yaml': 'kustomize.config.k8s.io/v1alpha1 Component',
  'argocd-environment/appproject.yaml': 'argoproj.io/v1alpha1 AppProject',
  'argocd-environment/applicationset.yaml': 'argoproj.io/v1alpha1 ApplicationSet',
  'example/environments/dev/kustomization.yaml': 'kustomize.config.k8s.io/v1beta1 Kustomization',
  'example/environments/dev/environment.yaml': 'v1 ConfigMap',
  'example/environments/staging/kustomization.yaml': 'kustomize.config.k8s.io/v1beta1 Kustomization',
  'example/environments/staging/environment.yaml': 'v1 ConfigMap',
  'example/environments/production/kustomization.yaml': 'kustomize.config.k8s.io/v1beta1 Kustomization',
  'example/environments/production/environment.yaml': 'v1 ConfigMap',
  'forge/configmap.yaml': 'v1 ConfigMap',
  'forge/deployment.yaml': 'apps/v1 Deployment',
  'forge/service.yaml': 'v1 Service',
  'forge/kustomization.yaml': 'kustomize.config.k8s.io/v1beta1 Kustomization',
};

test('every YAML file under deploy/ parses and is one of the expected kinds, each with apiVersion, kind and metadata.name', () => {
  const files = yamlFiles(DEPLOY)
    .map((f) => relative(DEPLOY, f))
    .sort();
  assert.deepEqual(files, Object.keys(EXPECTED_KINDS).sort());
  for (const rel of files) {
    const [apiVersion, kind] = EXPECTED_KINDS[rel]!.split(' ');
    const doc = one(rel, apiVersion!, kind!);
    if (kind !== 'Kustomization' && kind !== 'Component')
      assert.ok(typeof doc.metadata?.name === 'string' && doc.metadata.name, `${rel} metadata.name`);
  }
});

test('kustomizations name only files that exist', () => {
  for (const rel of Object.keys(EXPECTED_KINDS).filter((f) => f.endsWith('kustomization.yaml'))) {
    const dir = rel.slice(0, -'/kustomization.yaml'.length);
    const [apiVersion, kind] = EXPECTED_KINDS[rel]!.split(' ');
    const k = one(rel, apiVersion!, kind!);
    assert.ok(!(k.resources ?? []).some((r: string) => /^https?:/.test(r)), `${rel} fetches nothing (no Argo CD install)`);
    const local = [
      ...(k.components ?? []),
      ...(k.resources ?? []).filter((r: string) => !/^https?:/.test(r)),
      ...(k.patches ?? []).map((p: Obj) => p.path),
      ...(k.configMapGenerator ?? []).flatMap((g: Obj) => g.files),
    ];
    assert.ok(local.length > 0);
    for (const f of local) assert.ok(existsSync(join(DEPLOY, dir, f)), `${dir}/kustomization.yaml names ${f}`);
  }
});

test('plugin.yaml: a ConfigManagementPlugin running the forge-cmp bin the package ships', () => {
  const plugin = one('argocd/plugin.yaml', 'argoproj.io/v1alpha1', 'ConfigManagementPlugin');
  assert.deepEqual(plugin.spec.generate.command, ['forge-cmp', 'generate']);
  assert.deepEqual(plugin.spec.discover.find.command, ['forge-cmp', 'discover']);
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.bin['forge-cmp'], 'dist/src/cmp/main.js');
  assert.ok(existsSync(join(REPO_ROOT, 'src/cmp/main.ts')));
});

test('repo-server sidecar: argocd-cmp-server as UID 999, the plugin config mounted, registry credentials from a Secret', () => {
  const patch = one('argocd/repo-server-patch.yaml', 'apps/v1', 'Deployment');
  assert.equal(patch.metadata.name, 'argocd-repo-server');
  const pod = patch.spec.template.spec;
  const c = pod.containers.find((x: Obj) => x.name === 'forge-cmp');
  assert.ok(c, 'a forge-cmp container');
  assert.deepEqual(c.command, ['/var/run/argocd/argocd-cmp-server']);
  assert.equal(c.securityContext.runAsUser, 999);
  assert.equal(c.securityContext.runAsNonRoot, true);
  const mounts = new Map<string, Obj>(c.volumeMounts.map((m: Obj) => [m.mountPath, m]));
  assert.equal(mounts.get('/var/run/argocd')?.name, 'var-files', "Argo CD's shared volume with argocd-cmp-server");
  assert.equal(mounts.get('/home/argocd/cmp-server/plugins')?.name, 'plugins', 'the socket directory the repo-server talks through');
  const config = mounts.get('/home/argocd/cmp-server/config/plugin.yaml')!;
  assert.equal(config.subPath, 'plugin.yaml');
  const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
  const generated = one('argocd/kustomization.yaml', 'kustomize.config.k8s.io/v1alpha1', 'Component').configMapGenerator.find((g: Obj) =>
    g.files.includes('plugin.yaml'),
  );
  assert.equal(volumes.get(config.name)?.configMap?.name, generated.name, 'the ConfigMap made from plugin.yaml');

  const env = new Map<string, Obj>(c.env.map((e: Obj) => [e.name, e]));
  assert.ok(env.get('FORGE_REGISTRY')?.valueFrom?.configMapKeyRef || env.get('FORGE_REGISTRY')?.value, 'FORGE_REGISTRY is set');
  for (const name of ['FORGE_REGISTRY_USERNAME_FILE', 'FORGE_REGISTRY_PASSWORD_FILE']) {
    const path: string = env.get(name)?.value;
    const mount = c.volumeMounts.find((m: Obj) => path?.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `${name} (${path}) lies in a mounted volume`);
    assert.equal(volumes.get(mount.name)?.secret?.secretName, 'forge-registry-credentials', `${name} comes from a Secret`);
  }
  const cacheDir: string = env.get('FORGE_CMP_CACHE_DIR')?.value;
  assert.ok(
    c.volumeMounts.some((m: Obj) => m.mountPath === cacheDir),
    'the cache lives in its own volume',
  );
  assert.ok(
    c.volumeMounts.some((m: Obj) => m.mountPath === '/tmp'),
    'a writable /tmp under a read-only root filesystem',
  );
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
});

/** Argo CD's git files generator glob: `*` matches within one path segment. */
const globRegex = (glob: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+')}$`,
  );

test('ApplicationSet: one Application per pointer file of its environment, rendered by the forge plugin', () => {
  const set = one('argocd-environment/applicationset.yaml', 'argoproj.io/v1alpha1', 'ApplicationSet');
  const git = set.spec.generators[0].git;
  assert.ok(git.repoURL && git.revision);
  const [{ path: template }] = git.files;
  const glob = template.replace(/^ENVIRONMENT\//, 'production/'); // what the environment's setting puts there
  const pattern = globRegex(glob);
  assert.match(pointerPath({ environment: 'production', repository: 'acme/mono', project: 'auth-service' }), pattern);
  assert.match(pointerPath({ environment: 'production', repository: 'org.x/repo_y', project: 'p' }), pattern);
  assert.doesNotMatch(
    pointerPath({ environment: 'dev', repository: 'acme/mono', project: 'p' }),
    pattern,
    'other environments are not its',
  );
  assert.doesNotMatch('production/env.yaml', pattern);
  assert.doesNotMatch('production/apps/acme/mono/auth-service/env.yaml', pattern);
  assert.doesNotMatch('production/apps/acme/mono/auth-service/extra/release.yaml', pattern);
  const app = set.spec.template;
  assert.equal(set.spec.goTemplate, true);
  assert.equal(app.spec.source.repoURL, git.repoURL, 'Applications read the repository the generator scans');
  assert.equal(app.spec.source.path, '{{ .path.path }}', "each Application's source is the pointer folder");
  assert.equal(app.spec.source.plugin.name, one('argocd/plugin.yaml', 'argoproj.io/v1alpha1', 'ConfigManagementPlugin').metadata.name);
  assert.match(
    app.metadata.name,
    /index \.path\.segments 0.*index \.path\.segments 4.*printf "%s\/%s\/%s\/%s" \(index \.path\.segments 0\) \(index \.path\.segments 2\) \(index \.path\.segments 3\) \(index \.path\.segments 4\) \| sha256sum/,
    'names are unique per env/owner/name/project (a hash of all four; test/deploy-kustomize.test.ts evaluates it)',
  );
  assert.ok(app.spec.destination.server || app.spec.destination.name);
});

// ---- the CRD schema against the pointers the writer renders ----

type Schema = { type?: string; required?: string[]; properties?: Record<string, Schema>; pattern?: string; maxLength?: number };

/** The subset of OpenAPI v3 the CRD uses: type, required, properties, pattern, maxLength. Returns the problems. */
function check(schema: Schema, value: unknown, at = ''): string[] {
  const problems: string[] = [];
  const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  if (schema.type && !(schema.type === kind || (schema.type === 'integer' && Number.isInteger(value))))
    return [`${at || '.'}: expected ${schema.type}, got ${kind}`];
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${at}: "${value}" does not match ${schema.pattern}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
  }
  if (kind === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in obj)) problems.push(`${at}.${r}: required`);
    for (const [k, sub] of Object.entries(schema.properties ?? {})) if (k in obj) problems.push(...check(sub, obj[k], `${at}.${k}`));
  }
  return problems;
}

test('ReleasePointer CRD: its schema accepts every pointer the writer renders (40 and 64 hex shas) and refuses bad ones', () => {
  const crd = one('argocd/releasepointer-crd.yaml', 'apiextensions.k8s.io/v1', 'CustomResourceDefinition');
  const [group, version] = POINTER_API_VERSION.split('/');
  assert.equal(crd.spec.group, group);
  assert.equal(crd.spec.names.kind, POINTER_KIND);
  assert.equal(crd.metadata.name, `${crd.spec.names.plural}.${group}`);
  const served = crd.spec.versions.find((v: Obj) => v.name === version);
  assert.ok(served?.served && served.storage);
  const schema: Schema = served.schema.openAPIV3Schema;
  assert.equal(schema.properties!.spec!.properties!.release!.pattern, '^([0-9a-f]{40}|[0-9a-f]{64})$');

  const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
  const rendered = [
    pointerFor({ release: 'a'.repeat(40), digest }),
    pointerFor({ release: 'b'.repeat(64), digest, approvedBy: ['bob@example.com', 'carol@example.com'], aliases: ['v1.2.3', 'main-42'] }),
    pointerFor({ release: 'c'.repeat(40), digest, repository: 'org.name/repo_x-y', project: 'p', environment: 'dev' }),
  ].map((p) => parse(renderPointer(p)) as Obj);
  for (const doc of rendered) assert.deepEqual(check(schema, doc), [], JSON.stringify(doc.spec));

  const base = rendered[0]!;
  const bad: [Obj, RegExp][] = [
    [{ ...base.spec, release: 'a'.repeat(39) }, /\.spec\.release: .* does not match/],
    [{ ...base.spec, release: 'A'.repeat(40) }, /\.spec\.release: .* does not match/],
    [{ ...base.spec, release: 'a'.repeat(50) }, /\.spec\.release: .* does not match/],
    [{ ...base.spec, digest: 'sha256:abc' }, /\.spec\.digest: .* does not match/],
    [{ ...base.spec, repository: 'acme' }, /\.spec\.repository: .* does not match/],
    [{ ...base.spec, digest: undefined }, /\.spec\.digest: required/],
  ];
  for (const [spec, pattern] of bad) {
    const doc = { ...base, spec: Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) };
    assert.match(check(schema, doc).join('\n'), pattern);
  }
});

test('forge server: Deployment on PostgreSQL with Secret references, probes, a Service that reaches it, a valid platform config', () => {
  const deployment = one('forge/deployment.yaml', 'apps/v1', 'Deployment');
  const config = one('forge/configmap.yaml', 'v1', 'ConfigMap');
  const service = one('forge/service.yaml', 'v1', 'Service');
  const pod = deployment.spec.template.spec;
  assert.deepEqual(
    deployment.spec.selector.matchLabels,
    Object.fromEntries(Object.entries(deployment.spec.template.metadata.labels).filter(([k]) => k in deployment.spec.selector.matchLabels)),
  );
  const [c] = pod.containers;
  assert.equal(c.envFrom[0].configMapRef.name, config.metadata.name);
  const env = new Map<string, Obj>(c.env.map((e: Obj) => [e.name, e]));
  assert.deepEqual(
    env.get('FORGE_DATABASE_URL')?.valueFrom?.secretKeyRef,
    { name: 'forge-database', key: 'url' },
    'PostgreSQL URL from a Secret',
  );
  assert.ok(deployment.spec.replicas >= 2, 'several replicas on one PostgreSQL');
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  const volumes = new Map<string, Obj>(pod.volumes.map((v: Obj) => [v.name, v]));
  for (const [name, e] of env) {
    if (!name.endsWith('_FILE')) continue;
    const mount = c.volumeMounts.find((m: Obj) => e.value.startsWith(`${m.mountPath}/`));
    assert.ok(volumes.get(mount?.name)?.secret?.secretName, `${name} reads a mounted Secret`);
  }
  const readme = readFileSync(join(DEPLOY, 'README.md'), 'utf8');
  const secrets = [...volumes.values()]
    .map((v) => v.secret?.secretName)
    .filter(Boolean)
    .concat('forge-database');
  for (const s of secrets) assert.ok(readme.includes(`\`${s}\``), `deploy/README.md tells operators to create ${s}`);
  const mountedConfig = c.volumeMounts.find((m: Obj) => m.mountPath === config.data.FORGE_CONFIG);
  assert.equal(volumes.get(mountedConfig.name)?.configMap?.name, config.metadata.name);
  assert.deepEqual(
    parsePlatformConfig(config.data['forge.yaml'])
      .environments.map((e) => e.name)
      .sort(),
    ['dev', 'production', 'staging'],
  );
  assert.equal(config.data.FORGE_HOST, '0.0.0.0', 'reachable from the Service');

  for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(deployment.spec.template.metadata.labels[k], v);
  const port = service.spec.ports[0];
  assert.ok(c.ports.some((p: Obj) => p.name === port.targetPort && String(p.containerPort) === config.data.FORGE_PORT));
});

test('Dockerfile: builds the compiled CLI, installs forge and forge-cmp as the package bins, runs as non-root', () => {
  const lines = readFileSync(join(DEPLOY, 'forge/Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
  const froms = lines.filter((l) => l.startsWith('FROM '));
  assert.ok(froms.length >= 2 && froms.every((l) => /node:20/.test(l)), 'multi-stage on Node 20');
  assert.ok(lines.some((l) => l.includes('npm run build')));
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  const text = lines.join('\n');
  for (const [bin, target] of Object.entries<string>(pkg.bin)) {
    assert.match(text, new RegExp(`ln -s /opt/forge/${target.replace(/\./g, '\\.')} /usr/local/bin/${bin}\\b`), `${bin} is on PATH`);
  }
  const user = lines.filter((l) => l.startsWith('USER ')).pop();
  assert.ok(user && !/USER (root|0)\b/.test(user), 'the final stage runs as non-root');
  assert.match(text, /ENTRYPOINT \[.*"forge"\]/);
  assert.match(text, /apt-get install .*\bgit\b/, 'git for the GitOps writer');
  const ignored = readFileSync(join(DEPLOY, 'forge/Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim());
  for (const path of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(path), `the build context leaves out ${path}`);
});
