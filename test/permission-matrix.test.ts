/**
 * Every route × every role (issue 6, acceptance 3): allowed (anything but 401/403
 * permission_denied) or refused (403 permission_denied, and an audit entry), environment scope
 * included (deployer:staging cannot deploy to production). The route list is checked against
 * the server's OpenAPI document, so a new route without a row here fails this test.
 */

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Forge, releaseBody, startForge } from './support/forge.js';

/** A public key operators may add to the signing key set (issue 13 item 5). */
const MATRIX_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
const ROLES = [
  'service-account',
  'developer',
  'deployer:staging',
  'deployer:production',
  'approver:staging',
  'approver:production',
  'operator',
  'integration:argocd',
];
const ANY = ROLES;
const DEPLOY = (env: string) => [`deployer:${env}`, 'operator'];
const APPROVE = (env: string) => [`approver:${env}`, 'operator'];
const P = '/releases/acme/mono/auth-service';
const SLOT = (env: string) => `/deployments/${env}/acme/mono/auth-service`;

interface State {
  releaseId: string;
  approval: Record<string, string>;
  /** A break-glass request per environment, asked by a deployer who is not in the matrix. */
  breakGlass: Record<string, string>;
}
interface Row {
  method: string;
  /** The route as the OpenAPI document names it. */
  route: string;
  path: (s: State) => string;
  body?: (s: State) => unknown;
  allowed: string[];
  /** Only authentication: a token with no role at all may call it too. */
  noRoleAllowed?: boolean;
  label?: string;
}

const deployBody = (environment: string) => () => ({ repository: 'acme/mono', project: 'auth-service', environment, release: '1' });
const target = (environment: string) => () => ({ repository: 'acme/mono', project: 'auth-service', environment });

const argocdApplication = () => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: 'auth-staging', namespace: 'argocd' },
  spec: { source: { repoURL: 'https://git.example.com/gitops.git', path: 'staging/apps/acme/mono/auth-service' } },
  status: { sync: { status: 'Synced', revision: 'a'.repeat(40) }, health: { status: 'Healthy' } },
});

const ROWS: Row[] = [
  // issue 15: only the integration role may post Argo CD applications; DORA is a read
  {
    method: 'POST',
    route: '/integrations/argocd',
    path: () => '/integrations/argocd',
    body: argocdApplication,
    allowed: ['integration:argocd'],
  },
  { method: 'GET', route: '/metrics/dora', path: () => '/api/v1/metrics/dora', allowed: ANY },
  { method: 'POST', route: '/releases', path: () => '/releases', body: () => releaseBody(), allowed: ['service-account'] },
  { method: 'GET', route: '/releases/{owner}/{name}/{project}', path: () => P, allowed: ANY },
  { method: 'GET', route: '/releases/{owner}/{name}/{project}/{ref}', path: () => `${P}/1`, allowed: ANY },
  { method: 'GET', route: '/releases/{owner}/{name}/{project}/{ref}/resources', path: () => `${P}/1/resources`, allowed: ANY },
  { method: 'GET', route: '/releases/{owner}/{name}/{project}/{ref}/diff/{other}', path: () => `${P}/1/diff/1`, allowed: ANY },
  { method: 'GET', route: '/projects', path: () => '/projects', allowed: ANY },
  { method: 'GET', route: '/audit', path: () => '/audit', allowed: ANY },
  { method: 'GET', route: '/audit/verify', path: () => '/audit/verify', allowed: ANY },
  { method: 'GET', route: '/events', path: () => '/events', allowed: ANY },
  ...['staging', 'production'].flatMap((env): Row[] => [
    { method: 'POST', route: '/deployments', label: env, path: () => '/deployments', body: deployBody(env), allowed: DEPLOY(env) },
    {
      method: 'POST',
      route: '/deployments/rollback',
      label: env,
      path: () => '/deployments/rollback',
      body: target(env),
      allowed: DEPLOY(env),
    },
    { method: 'GET', route: '/deployments/{env}/{owner}/{name}/{project}', label: env, path: () => SLOT(env), allowed: ANY },
    {
      method: 'GET',
      route: '/deployments/{env}/{owner}/{name}/{project}/history',
      label: env,
      path: () => `${SLOT(env)}/history`,
      allowed: ANY,
    },
    { method: 'POST', route: '/pins', label: env, path: () => '/pins', body: target(env), allowed: DEPLOY(env) },
    {
      method: 'DELETE',
      route: '/pins/{env}/{owner}/{name}/{project}',
      label: env,
      path: () => `/pins/${env}/acme/mono/auth-service`,
      allowed: DEPLOY(env),
    },
    {
      method: 'POST',
      route: '/approvals',
      label: env,
      path: () => '/approvals',
      body: () => ({ repository: 'acme/mono', project: 'auth-service', release: '1', environment: env, justification: 'matrix' }),
      allowed: APPROVE(env),
    },
    {
      method: 'POST',
      route: '/approvals/{id}/revoke',
      label: env,
      path: (s) => `/approvals/${s.approval[env]}/revoke`,
      allowed: APPROVE(env),
    },
    {
      method: 'GET',
      route: '/approvals/{release_uuid}/{environment}',
      label: env,
      path: (s) => `/approvals/${s.releaseId}/${env}`,
      allowed: ANY,
    },
    // issue #16: deployers ask for a break-glass, approvers of the environment grant it
    {
      method: 'POST',
      route: '/break-glass',
      label: env,
      path: () => '/break-glass',
      body: () => ({ ...deployBody(env)(), reason: 'matrix' }),
      allowed: DEPLOY(env),
    },
    {
      method: 'POST',
      route: '/break-glass/{id}/approve',
      label: env,
      path: (s) => `/break-glass/${s.breakGlass[env]}/approve`,
      body: () => ({ justification: 'matrix' }),
      allowed: APPROVE(env),
    },
  ]),
  // issue #17: release trains; created by an operator or any deployer, deployed and rolled back per environment
  {
    method: 'POST',
    route: '/trains',
    path: () => '/trains',
    body: () => ({ name: 'matrix', members: [{ repository: 'acme/mono', project: 'auth-service', release: '1' }] }),
    allowed: ['deployer:staging', 'deployer:production', 'operator'],
  },
  { method: 'GET', route: '/trains', path: () => '/trains', allowed: ANY },
  { method: 'GET', route: '/trains/{train}', path: () => '/trains/matrix', allowed: ANY },
  { method: 'GET', route: '/trains/{train}/deployments', path: () => '/trains/matrix/deployments', allowed: ANY },
  {
    method: 'POST',
    route: '/trains/{train}/policy-checks',
    path: () => '/trains/matrix/policy-checks',
    body: () => ({ environment: 'production' }),
    allowed: ANY,
  },
  { method: 'GET', route: '/trains/{train}/diff/{other}', path: () => '/trains/matrix/diff/matrix', allowed: ANY },
  ...['staging', 'production'].flatMap((env): Row[] => [
    {
      method: 'POST',
      route: '/trains/{train}/deployments',
      label: env,
      path: () => '/trains/matrix/deployments',
      body: () => ({ environment: env }),
      allowed: DEPLOY(env),
    },
    {
      method: 'POST',
      route: '/trains/{train}/rollbacks',
      label: env,
      path: () => '/trains/matrix/rollbacks',
      body: () => ({ environment: env }),
      allowed: DEPLOY(env),
    },
    {
      method: 'POST',
      route: '/trains/{train}/approvals',
      label: env,
      path: () => '/trains/matrix/approvals',
      body: () => ({ environment: env, justification: 'matrix' }),
      allowed: APPROVE(env),
    },
  ]),
  { method: 'GET', route: '/break-glass', path: () => '/break-glass', allowed: ANY },
  { method: 'GET', route: '/break-glass/{id}', path: (s) => `/break-glass/${s.breakGlass.production}`, allowed: ANY },
  { method: 'GET', route: '/freeze-windows', path: () => '/freeze-windows', allowed: ANY },
  {
    method: 'GET',
    route: '/approval-context',
    path: () => '/approval-context?repository=acme/mono&project=auth-service&release=1&environment=production',
    allowed: ANY,
  },
  { method: 'POST', route: '/policy-checks', path: () => '/policy-checks', body: deployBody('production'), allowed: ANY },
  { method: 'GET', route: '/approvals', path: () => '/approvals', allowed: ANY },
  { method: 'GET', route: '/environments', path: () => '/environments', allowed: ANY },
  { method: 'GET', route: '/environments/orphans', path: () => '/environments/orphans', allowed: ANY },
  { method: 'GET', route: '/overview', path: () => '/overview', allowed: ANY },
  {
    method: 'POST',
    route: '/environments/{env}/rename',
    path: () => '/environments/qa/rename',
    body: () => ({ new_name: 'staging' }),
    allowed: ['operator'],
  },
  { method: 'POST', route: '/environments/{env}/retire', path: () => '/environments/qa/retire', body: () => ({}), allowed: ['operator'] },
  { method: 'GET', route: '/webhooks/deliveries', path: () => '/webhooks/deliveries', allowed: ['operator'] },
  { method: 'GET', route: '/doctor', path: () => '/doctor', allowed: ['operator'] },
  { method: 'POST', route: '/doctor/repair', path: () => '/doctor/repair', allowed: ['operator'] },
  { method: 'GET', route: '/signing-keys', path: () => '/signing-keys', allowed: ANY },
  { method: 'POST', route: '/signing-keys', path: () => '/signing-keys', body: () => ({ public_key: MATRIX_KEY }), allowed: ['operator'] },
  // An unknown key id: the operator gets 404 (allowed, nothing to retire), everyone else 403.
  { method: 'POST', route: '/signing-keys/{key_id}/retire', path: () => `/signing-keys/${'0'.repeat(64)}/retire`, allowed: ['operator'] },
  {
    method: 'POST',
    route: '/signing-keys/resign',
    path: () => '/signing-keys/resign',
    body: () => ({ dry_run: true }),
    allowed: ['operator'],
  },
  { method: 'GET', route: '/whoami', path: () => '/whoami', allowed: ANY, noRoleAllowed: true },
  // Revoking a token by id (issue 19 item 5): operator only; an id no token has is fine to revoke.
  {
    method: 'POST',
    route: '/tokens/revocations',
    path: () => '/tokens/revocations',
    body: () => ({ token_id: 'matrix-token-id' }),
    allowed: ['operator'],
  },
];

describe('permission matrix', () => {
  let forge: Forge;
  const state: State = { releaseId: '', approval: {}, breakGlass: {} };
  before(async () => {
    forge = await startForge();
    const ci = await forge.token(['service-account'], 'ci@example.com');
    const created = await forge.api('POST', '/releases', releaseBody(), ci);
    assert.equal(created.status, 201, created.text);
    state.releaseId = created.body.id;
    for (const env of ['staging', 'production']) {
      const approver = await forge.token([`approver:${env}`], `setup-${env}@example.com`);
      const res = await forge.api(
        'POST',
        '/approvals',
        { repository: 'acme/mono', project: 'auth-service', release: '1', environment: env, justification: 'setup' },
        approver,
      );
      assert.equal(res.status, 201, res.text);
      state.approval[env] = res.body.id;
      const deployer = await forge.token([`deployer:${env}`], `setup-deployer-${env}@example.com`);
      const bg = await forge.api('POST', '/break-glass', { ...deployBody(env)(), reason: 'setup' }, deployer);
      assert.equal(bg.status, 201, bg.text);
      state.breakGlass[env] = bg.body.id;
    }
  });
  after(() => forge.stop());

  /** Status and error code; the event stream is read only up to its headers. */
  async function call(row: Row, token?: string): Promise<{ status: number; code?: string; text: string }> {
    if (row.route === '/events') {
      const abort = new AbortController();
      const res = await fetch(`${forge.url}/api/v1/events`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: abort.signal,
      });
      const text = res.status === 200 ? '' : await res.text();
      abort.abort();
      return { status: res.status, code: text ? JSON.parse(text).error?.code : undefined, text };
    }
    const res = await forge.api(row.method, row.path(state), row.body?.(state), token);
    return { status: res.status, code: res.body?.error?.code, text: res.text };
  }

  test('the matrix covers every route of the API', async () => {
    const doc = await forge.api('GET', '/api/v1/openapi.json');
    const served = Object.entries(doc.body.paths as Record<string, object>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/^\/api\/v1/, '')}`))
      .sort();
    const covered = [...new Set(ROWS.map((r) => `${r.method} ${r.route}`))].sort();
    assert.deepEqual(covered, served);
  });

  test('without a token every route is 401', async () => {
    for (const row of ROWS) {
      const res = await call(row);
      assert.equal(res.status, 401, `${row.method} ${row.route}: ${res.text}`);
    }
  });

  test('each role is allowed exactly its routes, in its environments; each refusal is audited', async () => {
    const operator = await forge.token(['operator'], 'auditor@example.com');
    const deniedBefore = await countDenied(operator);
    let refusals = 0;
    for (const roles of [...ROLES.map((r) => [r]), []]) {
      const subject = `${roles[0] ?? 'nobody'}@example.com`;
      const token = await forge.token(roles, subject);
      for (const row of ROWS) {
        const allowed = roles.length ? row.allowed.includes(roles[0]) : !!row.noRoleAllowed;
        const res = await call(row, token);
        const where = `${roles[0] ?? '(no role)'} → ${row.method} ${row.route} ${row.label ?? ''}: ${res.status} ${res.text.slice(0, 300)}`;
        if (allowed) {
          assert.ok(res.status !== 401 && res.code !== 'permission_denied', `should be allowed: ${where}`);
          assert.ok(res.status < 500, `allowed but failed: ${where}`);
        } else {
          assert.equal(res.status, 403, `should be refused: ${where}`);
          assert.equal(res.code, 'permission_denied', where);
          refusals++;
        }
      }
    }
    assert.equal((await countDenied(operator)) - deniedBefore, refusals);
  });

  test('environment scope, spelled out: deployer:staging deploys to staging, not to production', async () => {
    const staging = await forge.token(['deployer:staging'], 'sam@example.com');
    const ok = await forge.api('POST', '/deployments', deployBody('staging')(), staging);
    assert.ok([200, 201].includes(ok.status), ok.text);
    const refused = await forge.api('POST', '/deployments', deployBody('production')(), staging);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'permission_denied');
    assert.match(refused.body.error.message, /sam@example\.com may not do this: it needs the deployer:production or operator role/);
  });

  async function countDenied(token: string): Promise<number> {
    let n = 0;
    for (let offset = 0; ; offset += 200) {
      const page = await forge.api('GET', `/audit?limit=200&offset=${offset}`, undefined, token);
      n += page.body.items.filter((e: { action: string }) => e.action === 'auth.permission_denied').length;
      if (page.body.items.length < 200) return n;
    }
  }
});
