/** Unit tests of src/core/role-mapping.ts: identity-provider claims to Forge roles (DESIGN.md §11). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ForgeError } from '../../src/core/errors.js';
import { parseRoleMapping, principalFromClaims } from '../../src/core/role-mapping.js';

test('defaults: groups and roles claims, no groups or clients, no default role, the subject from email, preferred_username or sub', () => {
  assert.deepEqual(parseRoleMapping('{}'), {
    claims: ['groups', 'roles'],
    groups: {},
    clients: {},
    default_roles: [],
    subject_claims: ['email', 'preferred_username', 'sub'],
  });
});

test('the role map is validated with the path of the mistake', () => {
  assert.throws(
    () => parseRoleMapping('{"groups": {"ops": ["admin"]}}'),
    /groups\.ops\[0\] is "admin": expected service-account, developer/,
  );
  assert.throws(() => parseRoleMapping('{"group": {}}'), /group is \{\}: expected one of claims, groups/);
  assert.throws(() => parseRoleMapping('{'), /not JSON/);
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
  assert.deepEqual(principalFromClaims(m, { sub: 'u1', email: 'u@x', realm_access: { roles: ['ops'] }, scp: 'deploy-prod other' }), {
    subject: 'u@x',
    roles: ['deployer:production', 'operator'],
  });
  assert.deepEqual(principalFromClaims(m, { sub: 'ci', client_id: 'ci' }), { subject: 'client:ci', roles: ['service-account'] });
  assert.deepEqual(principalFromClaims(m, { azp: 'ci' }), { subject: 'client:ci', roles: ['service-account'] });
  assert.deepEqual(principalFromClaims(m, { sub: 'person', client_id: 'ci', preferred_username: 'pat' }), { subject: 'pat', roles: [] });
});

test('a claim whose name holds dots is read as one name before it is read as a path', () => {
  const m = parseRoleMapping(JSON.stringify({ claims: ['https://example.com/groups'], groups: { ops: ['operator'] } }));
  assert.deepEqual(principalFromClaims(m, { sub: 's', 'https://example.com/groups': ['ops'] }), { subject: 's', roles: ['operator'] });
});

test('default roles go to people, not to clients; roles are sorted and given once', () => {
  const m = parseRoleMapping(
    JSON.stringify({ default_roles: ['developer'], groups: { a: ['operator', 'developer'], b: ['operator'] }, clients: { ci: [] } }),
  );
  assert.deepEqual(principalFromClaims(m, { sub: 's', groups: ['b', 'a'] }), { subject: 's', roles: ['developer', 'operator'] });
  assert.deepEqual(principalFromClaims(m, { client_id: 'ci' }), { subject: 'client:ci', roles: [] });
});

test('a token naming no subject is refused as unauthenticated, naming the claims looked at', () => {
  const m = parseRoleMapping(JSON.stringify({ subject_claims: ['email'] }));
  assert.throws(
    () => principalFromClaims(m, { sub: 'x', email: '' }),
    (err: unknown) =>
      err instanceof ForgeError && err.code === 'authentication_required' && /expected one of the claims email$/.test(err.message),
  );
});
