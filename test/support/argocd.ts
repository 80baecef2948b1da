/**
 * A stand-in for Argo CD (issue 15), since no Kubernetes or Argo CD runs on these machines:
 *   - `application()` builds an `Application` whose shape is taken field by field from Argo
 *     CD's published API schema, `assets/swagger.json` of argoproj/argo-cd v3.6.0
 *     (v1alpha1Application → v1ObjectMeta, v1alpha1ApplicationSpec {source, sources,
 *     destination, project, syncPolicy}, v1alpha1ApplicationStatus {sync {status, revision,
 *     revisions, comparedTo}, health {status, message, lastTransitionTime}, operationState
 *     {operation, phase, message, startedAt, finishedAt, retryCount, syncResult {revision,
 *     source, resources}}, reconciledAt, observedAt, resources, summary, history, sourceType,
 *     controllerNamespace}); times as v1Time, RFC 3339;
 *   - `startArgocd()` serves them over Argo CD's HTTP contract: `GET /api/v1/applications`
 *     (an ApplicationList, honouring the `repo` query) and `GET /api/v1/applications/{name}`,
 *     bearer token required, as the REST API (grpc-gateway) answers: without apiVersion/kind;
 *   - `notify()` posts an Application exactly as the shipped notifications config
 *     (deploy/argocd/notifications-forge.yaml) makes the notifications controller send it:
 *     the service's URL and headers with the secret's values substituted, the template's
 *     method and path, and its body with `{{toJson .app}}` rendered as Go's encoding/json
 *     renders the unstructured object (keys sorted, `<`, `>`, `&` escaped), the block
 *     scalar's trailing newline kept.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './forge.js';

export interface AppState {
  name: string;
  path: string;
  /** Extra source paths (multi-source application: spec.sources). */
  sources?: string[];
  repoURL: string;
  sync: 'Synced' | 'OutOfSync' | 'Unknown';
  revision: string;
  health: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
  phase?: 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Terminating';
  /** The revision of the last operation (defaults to `revision`). */
  operationRevision?: string;
  reconciledAt?: string;
}

/** An Application as Argo CD v3.6.0's API returns it (`withTypeMeta`: as the notifications' `.app` carries it). */
export function application(s: AppState, withTypeMeta = false): Record<string, unknown> {
  const now = s.reconciledAt ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const opRevision = s.operationRevision ?? s.revision;
  const source = { repoURL: s.repoURL, path: s.path, targetRevision: 'HEAD', plugin: { name: 'forge-release' } };
  return {
    ...(withTypeMeta ? { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } : {}),
    metadata: {
      name: s.name,
      namespace: 'argocd',
      uid: '6c3a8c36-4f3e-4b38-9e0b-2b0d1a5d7f10',
      resourceVersion: '48213',
      generation: 12,
      creationTimestamp: '2026-11-01T09:00:00Z',
      labels: { 'app.kubernetes.io/managed-by': 'forge' },
      annotations: { 'notifications.argoproj.io/subscribe.forge-on-synced.forge': '' },
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    },
    spec: {
      project: 'default',
      ...(s.sources
        ? { sources: [source, ...s.sources.map((p) => ({ repoURL: s.repoURL, path: p, targetRevision: 'HEAD' }))] }
        : { source }),
      destination: { server: 'https://kubernetes.default.svc', namespace: s.name },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
    },
    status: {
      sync: {
        status: s.sync,
        revision: s.revision,
        comparedTo: { source, destination: { server: 'https://kubernetes.default.svc', namespace: s.name } },
      },
      health: {
        status: s.health,
        lastTransitionTime: now,
        ...(s.health === 'Degraded' ? { message: 'Back-off restarting failed container' } : {}),
      },
      ...(s.phase
        ? {
            operationState: {
              operation: { sync: { revision: opRevision, prune: true }, initiatedBy: { automated: true }, retry: {} },
              phase: s.phase,
              message:
                s.phase === 'Succeeded'
                  ? 'successfully synced (all tasks run)'
                  : s.phase === 'Running'
                    ? 'waiting'
                    : 'one or more objects failed to apply',
              startedAt: now,
              ...(s.phase === 'Running' ? {} : { finishedAt: now }),
              syncResult: {
                revision: opRevision,
                source,
                resources: [
                  {
                    group: 'apps',
                    version: 'v1',
                    kind: 'Deployment',
                    namespace: s.name,
                    name: 'auth',
                    status: 'Synced',
                    message: 'deployment.apps/auth configured',
                    hookPhase: 'Running',
                    syncPhase: 'Sync',
                  },
                ],
              },
            },
          }
        : {}),
      reconciledAt: now,
      observedAt: now,
      resources: [{ version: 'v1', kind: 'Service', namespace: s.name, name: 'auth', status: 'Synced', health: { status: 'Healthy' } }],
      summary: { images: ['registry.example.com/auth@sha256:0123'] },
      history: [{ revision: opRevision, deployedAt: now, id: 3, source, deployStartedAt: now, initiatedBy: { automated: true } }],
      sourceType: 'Plugin',
      controllerNamespace: 'argocd',
    },
  };
}

export interface StandIn {
  url: string;
  token: string;
  apps: Map<string, AppState>;
  /** Requests served, by path (for the test's own checks). */
  requests: string[];
  /** When set, every request answers this status (Argo CD down). */
  failWith?: number;
  stop(): Promise<void>;
}

/** Serves `apps` on 127.0.0.1 as Argo CD's API does. */
export async function startArgocd(token = 'argocd-stand-in-token'): Promise<StandIn> {
  const apps = new Map<string, AppState>();
  const requests: string[] = [];
  const standIn = { apps, requests, token } as StandIn;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://argocd');
    requests.push(url.pathname + url.search);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (standIn.failWith) return send(standIn.failWith, { error: 'unavailable', code: 14, message: 'connection refused' });
    if (req.headers.authorization !== `Bearer ${token}`)
      return send(401, { error: 'invalid session', code: 16, message: 'invalid session' });
    if (req.method === 'GET' && url.pathname === '/api/v1/applications') {
      const repo = url.searchParams.get('repo');
      const items = [...apps.values()].filter((a) => !repo || a.repoURL === repo).map((a) => application(a));
      return send(200, { metadata: { resourceVersion: '48213' }, items });
    }
    const m = /^\/api\/v1\/applications\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && m && apps.has(decodeURIComponent(m[1]))) return send(200, application(apps.get(decodeURIComponent(m[1]))!));
    return send(404, { error: 'not found', code: 5, message: `applications.argoproj.io "${m?.[1]}" not found` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  standIn.url = `http://127.0.0.1:${addr.port}`;
  standIn.stop = () => new Promise<void>((r) => server.close(() => r()));
  return standIn;
}

/** Go's encoding/json of an unstructured object: map keys sorted, HTML characters escaped as \u003c, \u003e, \u0026. */
export function goJson(v: unknown): string {
  const enc = (x: unknown): string => {
    if (x === null || x === undefined) return 'null';
    if (Array.isArray(x)) return `[${x.map(enc).join(',')}]`;
    if (typeof x === 'object')
      return `{${Object.keys(x as object)
        .sort()
        .map((k) => `${enc(k)}:${enc((x as Record<string, unknown>)[k])}`)
        .join(',')}}`;
    return JSON.stringify(x)
      .replace(/</g, '\\u003c')
      .replace(/>/g, '\\u003e')
      .replace(/&/g, '\\u0026')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029');
  };
  return enc(v);
}

/** The shipped notifications config, parsed: the service, the template and the trigger names. */
export function shippedNotifications() {
  const cm = parseYaml(readFileSync(join(REPO_ROOT, 'deploy/argocd/notifications-forge.yaml'), 'utf8')) as { data: Record<string, string> };
  const service = parseYaml(cm.data['service.webhook.forge']) as { url: string; headers: { name: string; value: string }[] };
  const template = (
    parseYaml(cm.data['template.forge-application']) as { webhook: { forge: { method: string; path: string; body: string } } }
  ).webhook.forge;
  const triggers = Object.keys(cm.data).filter((k) => k.startsWith('trigger.'));
  return { cm, service, template, triggers };
}

/**
 * Posts `app` (with apiVersion/kind, as `.app` is) as the notifications controller would,
 * from the shipped config, with the secret's `forge-url` and `forge-argocd-token`.
 */
export async function notify(secret: { 'forge-url': string; 'forge-argocd-token': string }, app: Record<string, unknown>) {
  const { service, template } = shippedNotifications();
  const subst = (s: string) => s.replace(/\$([\w-]+)/g, (_, k: string) => (secret as Record<string, string>)[k] ?? `$${k}`);
  if (template.body.trim() !== '{{toJson .app}}') throw new Error(`the shipped template's body changed: ${template.body}`);
  const body = template.body.replace('{{toJson .app}}', goJson(app));
  const res = await fetch(subst(service.url).replace(/\/$/, '') + template.path, {
    method: template.method,
    headers: Object.fromEntries(service.headers.map((h) => [h.name, subst(h.value)])),
    body,
  });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}
