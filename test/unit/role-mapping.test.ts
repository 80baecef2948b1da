/** Unit tests of src/core/role-mapping.ts: identity-provider claims to Forge roles (DESIGN.md §11). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../../src/core/errors.js';
import { parseRoleMapping, principalFromClaims } from '../../src/core/role-mapping.js';

const ISS = 'https://idp.example.com';

test('defaults: groups and roles claims, no groups or clients, no default role, the display name from email or preferred_username', () => {
  assert.deepEqual(parseRoleMapping('{}'), {
    claims: ['groups', 'roles'],
    groups: {},
    clients: {},
    client_repositories: {},
    default_roles: [],
    subject_claims: ['email', 'preferred_username'],
  });
});

test('the role map is validated with the path of the mistake', () => {
  assert.throws(
    () => parseRoleMapping('{"groups": {"ops": ["admin"]}}'),
    /groups\.ops\[0\] is "admin": expected service-account, developer/,
  );
  assert.throws(() => parseRoleMapping('{"group": {}}'), /group is \{\}: expected one of claims, groups/);
  assert.throws(() => parseRoleMapping('{'), /not valid JSON/);
  assert.throws(() => parseRoleMapping('[]'), /the map is \[\]: expected a JSON object/);
  assert.throws(() => parseRoleMapping('{"claims": ["groups", ""]}'), /claims is \["groups",""\]: expected a list of non-empty strings/);
  assert.throws(() => parseRoleMapping('{"clients": ["ci"]}'), /clients is \["ci"\]: expected an object of name → list of roles/);
  assert.throws(() => parseRoleMapping('{"default_roles": ["deployer:Prod"]}'), /default_roles\[0\] is "deployer:Prod"/);
  assert.throws(
    () => parseRoleMapping('{}x'),
    (err: unknown) => err instanceof ForgeError && err.code === 'validation_error',
  );
});

test('claims: nested paths, space-separated strings, client roles only for the client itself', () => {
  const m = parseRoleMapping(
    JSON.stringify({
      claims: ['realm_access.roles', 'scp'],
      groups: { ops: ['operator'], 'deploy-prod': ['deployer:production'] },
      clients: { ci: ['service-account'] },
    }),
  );
  assert.deepEqual(
    principalFromClaims(m, { iss: ISS, sub: 'u1', email: 'u@x', realm_access: { roles: ['ops'] }, scp: 'deploy-prod other' }),
    { subject: `${ISS}#u1`, display: 'u@x', roles: ['deployer:production', 'operator'] },
  );
  assert.deepEqual(principalFromClaims(m, { sub: 'ci', client_id: 'ci' }), { subject: 'client:ci', roles: ['service-account'] });
  assert.deepEqual(principalFromClaims(m, { azp: 'ci' }), { subject: 'client:ci', roles: ['service-account'] });
  assert.deepEqual(principalFromClaims(m, { iss: ISS, sub: 'person', client_id: 'ci', preferred_username: 'pat' }), {
    subject: `${ISS}#person`,
    display: 'pat',
    roles: [],
  });
});

test('a claim whose name holds dots is read as one name before it is read as a path', () => {
  const m = parseRoleMapping(JSON.stringify({ claims: ['https://example.com/groups'], groups: { ops: ['operator'] } }));
  assert.deepEqual(principalFromClaims(m, { iss: ISS, sub: 's', 'https://example.com/groups': ['ops'] }), {
    subject: `${ISS}#s`,
    roles: ['operator'],
  });
});

test('default roles go to people, not to clients; roles are sorted and given once', () => {
  const m = parseRoleMapping(
    JSON.stringify({ default_roles: ['developer'], groups: { a: ['operator', 'developer'], b: ['operator'] }, clients: { ci: [] } }),
  );
  assert.deepEqual(principalFromClaims(m, { iss: ISS, sub: 's', groups: ['b', 'a'] }), {
    subject: `${ISS}#s`,
    roles: ['developer', 'operator'],
  });
  assert.deepEqual(principalFromClaims(m, { client_id: 'ci' }), { subject: 'client:ci', roles: [] });
});

test('a token naming no sub or no issuer is refused as unauthenticated: an email alone never names a person', () => {
  const m = parseRoleMapping(JSON.stringify({ subject_claims: ['email'] }));
  for (const claims of [
    { iss: ISS, email: 'x@y' },
    { sub: 'x', email: 'x@y' },
    { iss: ISS, sub: '', email: 'x@y' },
  ]) {
    assert.throws(
      () => principalFromClaims(m, claims),
      (err: unknown) => err instanceof ForgeError && err.code === 'authentication_required' && /never by an email/.test(err.message),
      JSON.stringify(claims),
    );
  }
});

test('issue #13 item 2: one sub presenting several emails is one person; one email on two subs is two', () => {
  const m = parseRoleMapping('{}');
  const a = principalFromClaims(m, { iss: ISS, sub: '248289761001', email: 'jane@example.com' });
  const b = principalFromClaims(m, { iss: ISS, sub: '248289761001', email: 'jane.doe@example.com' });
  const c = principalFromClaims(m, { iss: ISS, sub: '248289761001', preferred_username: 'ceo' });
  assert.equal(a.subject, b.subject);
  assert.equal(a.subject, c.subject);
  assert.deepEqual([a.display, b.display, c.display], ['jane@example.com', 'jane.doe@example.com', 'ceo']);
  const other = principalFromClaims(m, { iss: ISS, sub: '999', email: 'jane@example.com' });
  assert.notEqual(other.subject, a.subject, 'the same email from another subject is someone else');
  const otherIssuer = principalFromClaims(m, { iss: 'https://other.example', sub: '248289761001', email: 'jane@example.com' });
  assert.notEqual(otherIssuer.subject, a.subject, 'the same sub from another issuer is someone else');
  // `sub` listed among subject_claims (the old default) is no display name; the subject is iss+sub anyway.
  const legacy = parseRoleMapping(JSON.stringify({ subject_claims: ['email', 'preferred_username', 'sub'] }));
  assert.deepEqual(principalFromClaims(legacy, { iss: ISS, sub: 's' }), { subject: `${ISS}#s`, roles: [] });
});

test('issue #13 item 7: client_repositories binds a client service account to repositories; unbound = any', () => {
  const m = parseRoleMapping(
    JSON.stringify({
      clients: { web: ['service-account'], all: ['service-account'] },
      client_repositories: { web: ['acme/web', 'acme/site'] },
    }),
  );
  assert.deepEqual(principalFromClaims(m, { client_id: 'web' }), {
    subject: 'client:web',
    roles: ['service-account'],
    repositories: ['acme/web', 'acme/site'],
  });
  assert.deepEqual(principalFromClaims(m, { client_id: 'all' }), { subject: 'client:all', roles: ['service-account'] });
  assert.throws(
    () => parseRoleMapping('{"client_repositories": {"web": ["Acme/Web"]}}'),
    /client_repositories\.web\[0\] is "Acme\/Web": expected a lower-case owner\/name/,
  );
  assert.throws(() => parseRoleMapping('{"client_repositories": {"web": ["acme"]}}'), /expected a lower-case owner\/name/);
});

test('issue #13 review F2: repository_claim binds a pipeline token that is no OIDC client (GitHub Actions) to its repository', () => {
  const GH = 'https://token.actions.githubusercontent.com';
  const m = parseRoleMapping(
    JSON.stringify({ claims: ['repository_owner'], groups: { acme: ['service-account'] }, repository_claim: 'repository' }),
  );
  const token = (repository: unknown) => ({
    iss: GH,
    sub: 'repo:acme/a:ref:refs/heads/main',
    repository_owner: 'acme',
    ...(repository === undefined ? {} : { repository }),
  });
  assert.deepEqual(principalFromClaims(m, token('acme/a')), {
    subject: `${GH}#repo:acme/a:ref:refs/heads/main`,
    roles: ['service-account'],
    repositories: ['acme/a'],
  });
  assert.deepEqual(principalFromClaims(m, token('Acme/A')).repositories, ['acme/a'], 'lower-cased, as repositories are compared');
  // A token with the role but no usable claim is refused, never left unbound (= any repository).
  for (const bad of [undefined, '', 'acme', 'acme/a/b', 42])
    assert.throws(
      () => principalFromClaims(m, token(bad)),
      (err: unknown) => err instanceof ForgeError && err.code === 'authentication_required' && /repository_claim/.test(err.message),
      JSON.stringify(bad),
    );
  // A person without the service-account role and without the claim is not affected.
  assert.deepEqual(principalFromClaims(m, { iss: GH, sub: 'someone' }), { subject: `${GH}#someone`, roles: [] });
  // A client bound by client_repositories keeps that binding; an unbound client takes the claim's.
  const c = parseRoleMapping(
    JSON.stringify({
      clients: { web: ['service-account'], any: ['service-account'] },
      client_repositories: { web: ['acme/web'] },
      repository_claim: 'repository',
    }),
  );
  assert.deepEqual(principalFromClaims(c, { client_id: 'web', repository: 'acme/a' }).repositories, ['acme/web']);
  assert.deepEqual(principalFromClaims(c, { client_id: 'any', repository: 'acme/a' }).repositories, ['acme/a']);
  // Without repository_claim, such a token is unbound (documented: may release any repository).
  const unbound = parseRoleMapping(JSON.stringify({ claims: ['repository_owner'], groups: { acme: ['service-account'] } }));
  assert.equal(principalFromClaims(unbound, token('acme/a')).repositories, undefined);
  assert.throws(() => parseRoleMapping('{"repository_claim": ""}'), /repository_claim is "": expected the name/);
});
