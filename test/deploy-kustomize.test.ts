/**
 * The shipped cluster configuration, checked for real (issue 13 item 6). Every kustomization
 * under deploy/ is built by kustomize built from source (sigs.k8s.io/kustomize/kustomize/v5,
 * scripts/build-k8s-tools.mjs) and its output decoded strictly into the Kubernetes API types
 * (k8s.io/api) and Argo CD's published CRD schemas by k8s-check. The deploy/argocd component is
 * built on top of Argo CD's own install manifest (v2.13.3): it patches that Argo CD and installs
 * none. Each environment gets its own AppProject and the destination its operator set, and the
 * AppProject refuses what the repro got through (a ClusterRoleBinding, objects in argocd).
 */

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './support/forge.js';

type Obj = Record<string, any>;
const DEPLOY = join(REPO_ROOT, 'deploy');
let tools: { kustomize: string; checker: string; argocdCrds: string; argocdInstall: string };
mkdirSync(join(REPO_ROOT, 'test-output'), { recursive: true });
const scratch = mkdtempSync(join(REPO_ROOT, 'test-output', 'kustomize-'));

function kustomizations(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return kustomizations(p);
    return n === 'kustomization.yaml' ? [dir] : [];
  });
}

function build(dir: string): string {
  const r = spawnSync(tools.kustomize, ['build', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `kustomize build ${relative(REPO_ROOT, dir)}: ${r.stderr}`);
  return r.stdout;
}

function check(yaml: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tools.checker, ['--argocd-crds', tools.argocdCrds], { input: yaml, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const docs = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => d.toJS() as Obj);

/** A site's kustomization around a component: Argo CD's own install for deploy/argocd, a sample environment for deploy/argocd-environment. */
function wrap(component: string): string {
  const dir = mkdtempSync(join(scratch, 'site-'));
  const rel = relative(dir, component);
  if (relative(DEPLOY, component) === 'argocd') {
    copyFileSync(tools.argocdInstall, join(dir, 'install.yaml'));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: argocd\nresources: [install.yaml]\ncomponents: [${rel}]\n`,
    );
  } else if (relative(DEPLOY, component) === 'argocd-environment') {
    writeFileSync(
      join(dir, 'environment.yaml'),
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: forge-environment, annotations: { config.kubernetes.io/local-config: "true" } }',
        'data: { environment: qa, destinationServer: "https://qa.k8s.example.com", namespacePrefix: team-a-qa, gitopsRepoURL: "https://git.example.com/g.git", gitopsRevision: trunk }',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [environment.yaml]\ncomponents: [${rel}]\n`,
    );
  } else assert.fail(`no site to build the component ${relative(REPO_ROOT, component)} in: add one to this test`);
  return dir;
}

/**
 * Argo CD's ApplicationSet goTemplate (text/template with sprig) for the subset the shipped
 * templates use: `{{ ... }}` actions whose pipelines start with printf, index or a field
 * (.path.segments, .values.x) and go through sprig's trunc, trimSuffix and sha256sum. Anything
 * else throws, so a template this test cannot evaluate fails it instead of passing unchecked.
 */
function goTemplate(template: string, data: { segments: string[]; values: Obj }): string {
  const tokens = (s: string) => s.match(/"(?:[^"\\]|\\.)*"|\(|\)|\||[^\s()|]+/g) ?? [];
  const evalPipeline = (toks: string[]): unknown => {
    const stages: string[][] = [[]];
    let depth = 0;
    for (const t of toks) {
      if (t === '(') depth++;
      if (t === ')') depth--;
      if (t === '|' && depth === 0) stages.push([]);
      else stages[stages.length - 1].push(t);
    }
    let value: unknown;
    stages.forEach((stage, i) => {
      const args: unknown[] = [];
      for (let j = 1; j < stage.length; j++) {
        if (stage[j] === '(') {
          let d = 0;
          let k = j;
          for (; k < stage.length; k++) {
            if (stage[k] === '(') d++;
            if (stage[k] === ')' && --d === 0) break;
          }
          args.push(evalPipeline(stage.slice(j + 1, k)));
          j = k;
        } else args.push(operand(stage[j]));
      }
      if (i > 0) args.push(value);
      value = call(stage[0], args);
    });
    return value;
  };
  const operand = (t: string): unknown => {
    if (t.startsWith('"')) return JSON.parse(t);
    if (/^\d+$/.test(t)) return Number(t);
    if (t === '.path.segments') return data.segments;
    if (t.startsWith('.values.')) {
      const v = data.values[t.slice('.values.'.length)];
      assert.ok(v !== undefined, `missingkey=error: ${t}`);
      return v;
    }
    throw new Error(`goTemplate: operand ${t} not supported by this test`);
  };
  const call = (fn: string, args: unknown[]): unknown => {
    if (fn.startsWith('.') || fn.startsWith('"')) return operand(fn);
    switch (fn) {
      case 'printf': {
        const [fmt, ...rest] = args as string[];
        let n = 0;
        return fmt.replace(/%s/g, () => String(rest[n++]));
      }
      case 'index': {
        const [list, i] = args as [string[], number];
        assert.ok(i < list.length, `index ${i} out of range`);
        return list[i];
      }
      case 'trunc':
        return (args[1] as string).slice(0, args[0] as number);
      case 'trimSuffix': {
        const [suffix, str] = args as string[];
        return str.endsWith(suffix) ? str.slice(0, -suffix.length) : str;
      }
      case 'sha256sum':
        return createHash('sha256')
          .update(args[0] as string)
          .digest('hex');
      default:
        throw new Error(`goTemplate: function ${fn} not supported by this test`);
    }
  };
  return template.replace(/\{\{(.*?)\}\}/g, (_, inner: string) => String(evalPipeline(tokens(inner.trim()))));
}

/** What the ApplicationSet `set` makes of the pointer file at `path`: the Application's name and destination namespace. */
function application(set: Obj, path: string): { name: string; namespace: string } {
  const gen = set.spec.generators[0].git;
  const data = { segments: path.split('/'), values: gen.values ?? {} };
  return {
    name: goTemplate(set.spec.template.metadata.name, data),
    namespace: goTemplate(set.spec.template.spec.destination.namespace, data),
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Argo CD's glob for AppProject destinations (`*` any run of characters). */
const globMatch = (glob: string, s: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(s);

/** Whether an AppProject admits an object of `group`/`kind` in `namespace` on `server` (namespaced when `namespace` is set). */
function admits(project: Obj, o: { group: string; kind: string; namespace?: string; server: string }): boolean {
  const spec = project.spec;
  if (o.namespace === undefined)
    return (spec.clusterResourceWhitelist ?? []).some((w: Obj) => globMatch(w.group, o.group) && globMatch(w.kind, o.kind));
  const dest = (spec.destinations ?? []).some((d: Obj) => d.server === o.server && globMatch(d.namespace, o.namespace!));
  const white = spec.namespaceResourceWhitelist;
  const kindOk = !white || white.some((w: Obj) => globMatch(w.group, o.group) && globMatch(w.kind, o.kind));
  return dest && kindOk;
}

before(() => {
  tools = JSON.parse(
    execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build-k8s-tools.mjs')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/ built by kustomize and checked against the Kubernetes API types', () => {
  test('every kustomization (and every component, inside a site) builds, and every object decodes strictly', () => {
    const dirs = kustomizations(DEPLOY);
    assert.ok(dirs.length >= 6, dirs.join('\n'));
    for (const dir of dirs) {
      const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Obj;
      const out = build(k.kind === 'Component' ? wrap(dir) : dir);
      const res = check(out);
      assert.equal(res.code, 0, `${relative(REPO_ROOT, dir)}:\n${res.stderr}`);
      assert.ok(res.stdout.trim().split('\n').length >= 2, `${relative(REPO_ROOT, dir)} renders objects`);
    }
  });

  test('the checker refuses what the API server would: unknown or mistyped fields, unknown kinds, fields Argo CD’s schema lacks', () => {
    const bad: [string, RegExp][] = [
      ['apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndatta: { x: y }\n', /unknown field "datta"/],
      ['apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: a }\nspec: { replicas: "two" }\n', /replicas|cannot unmarshal/],
      ['apiVersion: v1\nkind: Service\nmetadata: { name: a, labelz: {} }\n', /unknown field "metadata.labelz"|unknown field "labelz"/],
      [
        'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: a }\n',
        /no Kubernetes API type or published CRD schema is known for example.com\/v1\/Widget/,
      ],
      [
        'apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: { name: a }\nspec: { destinations: [{ server: s, namespace: n, cluster: x }] }\n',
        /unknown field "cluster"/,
      ],
      [
        'apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: { name: a }\nspec: { generators: [], template: { metadata: {}, spec: { project: 3 } } }\n',
        /project: must be a string/,
      ],
      ['apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n', /metadata.name is empty/],
    ];
    for (const [yaml, why] of bad) {
      const res = check(yaml);
      assert.equal(res.code, 1, yaml);
      assert.match(res.stderr, why, yaml);
    }
    assert.equal(check('').code, 1, 'no objects is not a pass');
    assert.equal(check('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\ndata: { x: y }\n').code, 0);
  });

  test('deploy/argocd patches the Argo CD it is given and installs none; the plugin verifies signatures by default', () => {
    const install = docs(readFileSync(tools.argocdInstall, 'utf8')).filter(Boolean);
    const site = docs(build(wrap(join(DEPLOY, 'argocd'))));
    const id = (o: Obj) => `${o.kind}/${o.metadata.name}`;
    const added = site.filter((o) => !install.some((i) => id(i) === id(o))).map(id);
    assert.deepEqual(added.sort(), [
      'ConfigMap/forge-cmp-plugin',
      'ConfigMap/forge-cmp-settings',
      'ConfigMap/forge-signing-keys',
      'CustomResourceDefinition/releasepointers.forge.projectcatalyst.io',
    ]);
    assert.equal(site.length, install.length + added.length, 'every Argo CD object once, none added twice');
    const raw = parse(readFileSync(join(DEPLOY, 'argocd/kustomization.yaml'), 'utf8')) as Obj;
    assert.equal(raw.kind, 'Component');
    assert.ok(!JSON.stringify(raw.resources).includes('http'), 'it fetches no Argo CD');

    const repo = site.find((o) => id(o) === 'Deployment/argocd-repo-server')!;
    const original = install.find((o) => id(o) === 'Deployment/argocd-repo-server')!;
    const names = repo.spec.template.spec.containers.map((c: Obj) => c.name);
    assert.deepEqual(
      names.sort(),
      [...original.spec.template.spec.containers.map((c: Obj) => c.name), 'forge-cmp'].sort(),
      'Argo CD’s containers kept',
    );
    const argocdContainer = (d: Obj) => d.spec.template.spec.containers.find((c: Obj) => c.name === 'argocd-repo-server');
    assert.deepEqual(argocdContainer(repo), argocdContainer(original), 'the repo-server container itself untouched');
    const sidecar = repo.spec.template.spec.containers.find((c: Obj) => c.name === 'forge-cmp');
    const keyFile = sidecar.env.find((e: Obj) => e.name === 'FORGE_SIGNING_PUBLIC_KEY_FILE')?.value as string;
    assert.ok(keyFile, 'the plugin is configured to verify');
    const mount = sidecar.volumeMounts.find((m: Obj) => keyFile.startsWith(`${m.mountPath}/`));
    const volumes = new Map<string, Obj>(repo.spec.template.spec.volumes.map((v: Obj) => [v.name, v]));
    const keys = site.find((o) => id(o) === `ConfigMap/${volumes.get(mount.name)?.configMap?.name}`)!;
    assert.ok(keys, 'the key file comes from a ConfigMap of the component');
    assert.ok(keyFile.endsWith(`/${Object.keys(keys.data)[0]}`));
    assert.equal(volumes.get('forge-registry-credentials')?.secret?.optional, true, 'a missing Secret does not stop the repo-server');
  });

  test('each environment: its own AppProject and the destination its operator set; what the repro deployed is refused', () => {
    const envs = ['dev', 'staging', 'production'].map((env) => {
      const setting = parse(readFileSync(join(DEPLOY, 'example/environments', env, 'environment.yaml'), 'utf8')).data as Obj;
      const out = docs(build(join(DEPLOY, 'example/environments', env)));
      assert.deepEqual(out.map((o) => o.kind).sort(), ['AppProject', 'ApplicationSet'], 'the setting itself is not applied');
      return { env, setting, project: out.find((o) => o.kind === 'AppProject')!, set: out.find((o) => o.kind === 'ApplicationSet')! };
    });
    for (const { env, setting, project, set } of envs) {
      assert.equal(project.metadata.name, `forge-${env}`);
      assert.equal(set.spec.template.spec.project, `forge-${env}`, 'its Applications are in its own project');
      assert.equal(set.spec.generators[0].git.files[0].path, `${env}/apps/*/*/*/release.yaml`, 'only its own pointer files');
      const dest = set.spec.template.spec.destination;
      assert.equal(dest.server, setting.destinationServer);
      assert.equal(set.spec.generators[0].git.values.namespacePrefix, setting.namespacePrefix);
      assert.ok(!JSON.stringify(dest).includes('.spec.'), 'nothing of the destination comes from the pointer file');
      const web = application(set, `${env}/apps/acme/a/web/release.yaml`);
      assert.match(
        web.namespace,
        new RegExp(`^${setting.namespacePrefix}-web-[0-9a-f]{10}$`),
        'namespace from the path Forge writes, under the prefix',
      );
      assert.deepEqual(project.spec.sourceRepos, [setting.gitopsRepoURL]);

      const server = setting.destinationServer;
      const ns = application(set, `${env}/apps/acme/a/auth-service/release.yaml`).namespace;
      assert.ok(admits(project, { group: 'apps', kind: 'Deployment', namespace: ns, server }), 'a Deployment in its namespace');
      // The repro: a cluster-admin ClusterRoleBinding, objects in argocd, and a RoleBinding to grant itself rights.
      assert.ok(!admits(project, { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', server }));
      assert.ok(!admits(project, { group: '', kind: 'Namespace', server }));
      assert.ok(!admits(project, { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', server }));
      for (const other of ['argocd', 'kube-system', 'default'])
        assert.ok(!admits(project, { group: '', kind: 'ConfigMap', namespace: other, server }), `${env}: nothing in ${other}`);
      assert.ok(!admits(project, { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', namespace: ns, server }));
      assert.ok(!admits(project, { group: 'apps', kind: 'Deployment', namespace: ns, server: 'https://elsewhere.example.com' }));
    }
    const [dev, , production] = envs;
    assert.notEqual(dev.setting.destinationServer, production.setting.destinationServer, 'production goes to its own cluster');
    const devNs = application(dev.set, 'dev/apps/acme/a/web/release.yaml').namespace;
    assert.ok(
      !admits(production.project, { group: 'apps', kind: 'Deployment', namespace: devNs, server: dev.setting.destinationServer }),
      'no environment reaches another’s',
    );
  });

  test('repositories are isolated: the same project from two repositories, or names that normalise alike, never share a namespace or an Application (review F1)', () => {
    for (const env of ['dev', 'staging', 'production']) {
      const set = docs(build(join(DEPLOY, 'example/environments', env))).find((o) => o.kind === 'ApplicationSet')!;
      const prefix = set.spec.generators[0].git.values.namespacePrefix as string;
      const paths = [
        'acme/a/web', // the victim
        'acme/b/web', // another repository registering the same project name
        'acme/a_b/web',
        'acme/a-b/web', // names Argo CD's normalize made one
        'acme/web-api/p',
        'acme-web/api/p', // <owner>-<name>-<project> alike
        'acme/web/api-p',
        'Acme/A/web', // case differs
        `acme/a/${'x'.repeat(63)}`, // the longest project
        `acme/b/${'x'.repeat(63)}`,
      ].map((p) => `${env}/apps/${p}/release.yaml`);
      const apps = paths.map((p) => application(set, p));
      const names = new Set(apps.map((a) => a.name));
      const namespaces = new Set(apps.map((a) => a.namespace));
      assert.equal(names.size, paths.length, `${env}: every Application its own name: ${[...names].join(' ')}`);
      assert.equal(namespaces.size, paths.length, `${env}: every repository and project its own namespace: ${[...namespaces].join(' ')}`);
      for (const a of apps) {
        assert.match(a.name, DNS_LABEL, `${env}: ${a.name} is a valid Application name (at most 63 characters)`);
        assert.match(a.namespace, DNS_LABEL, `${env}: ${a.namespace} is a DNS label`);
        assert.ok(a.namespace.startsWith(`${prefix}-`), `${env}: ${a.namespace} under the environment's prefix`);
      }
      // acme/b registering project `web` does not land in acme/a's namespace.
      assert.notEqual(apps[1].namespace, apps[0].namespace);
      assert.notEqual(apps[1].name, apps[0].name);
    }
  });

  test('the shipped plugin refuses objects naming another namespace than the Application’s destination (review F1)', () => {
    const site = docs(build(wrap(join(DEPLOY, 'argocd'))));
    const repo = site.find((o) => o.kind === 'Deployment' && o.metadata.name === 'argocd-repo-server')!;
    const sidecar = repo.spec.template.spec.containers.find((c: Obj) => c.name === 'forge-cmp');
    assert.equal(sidecar.env.find((e: Obj) => e.name === 'FORGE_CMP_DESTINATION_NAMESPACE_ONLY')?.value, 'true');
  });

  test('a site’s own setting reaches every place it is used (sample environment, a prefix with dashes)', () => {
    const out = docs(build(wrap(join(DEPLOY, 'argocd-environment'))));
    const project = out.find((o) => o.kind === 'AppProject')!;
    const set = out.find((o) => o.kind === 'ApplicationSet')!;
    assert.equal(project.metadata.name, 'forge-qa');
    assert.deepEqual(project.spec.destinations, [{ server: 'https://qa.k8s.example.com', namespace: 'team-a-qa-*' }]);
    assert.equal(set.spec.generators[0].git.values.namespacePrefix, 'team-a-qa');
    const web = application(set, 'qa/apps/acme/a/web/release.yaml');
    const hash = createHash('sha256').update('acme/a/web').digest('hex').slice(0, 10);
    assert.equal(web.namespace, `team-a-qa-web-${hash}`, 'the documented way to compute the namespace');
    assert.equal(web.name, `qa-web-${createHash('sha256').update('qa/acme/a/web').digest('hex').slice(0, 10)}`);
    assert.equal(set.spec.generators[0].git.revision, 'trunk');
    assert.equal(set.spec.template.spec.source.targetRevision, 'trunk');
    assert.equal(set.spec.template.spec.source.repoURL, 'https://git.example.com/g.git');
    assert.ok(!JSON.stringify(out).match(/ENVIRONMENT|DESTINATION_SERVER|NAMESPACE_PREFIX|GITOPS_/), 'no placeholder left');
  });
});
