/**
 * From an identity provider's token claims to Forge roles (DESIGN.md §11), by configuration.
 * Pure: the server verifies the token, this decides who it is and what it may do.
 *
 * The mapping (JSON, FORGE_OIDC_ROLE_MAP or FORGE_OIDC_ROLE_MAP_FILE):
 *   {
 *     "claims": ["groups", "roles", "realm_access.roles"],   // where group/role names are (dotted paths); default groups, roles
 *     "groups": { "platform-team": ["operator"], "staging-deployers": ["deployer:staging"] },
 *     "clients": { "ci-pipeline": ["service-account"] },     // service accounts by client id
 *     "default_roles": ["developer"],                        // every authenticated person; default none
 *     "subject_claims": ["email", "preferred_username", "sub"]  // the actor recorded; default this
 *   }
 * A client's roles apply only to the client's own tokens (client credentials: no subject, or
 * the subject is the client id), never to a person who logged in through that client.
 */
import { ForgeError } from './errors.js';
import { type Principal, ROLE_PATTERN } from './permissions.js';

export interface RoleMapping {
  claims: string[];
  groups: Record<string, string[]>;
  clients: Record<string, string[]>;
  default_roles: string[];
  subject_claims: string[];
}

const FIELDS = ['claims', 'groups', 'clients', 'default_roles', 'subject_claims'];

function problem(path: string, expected: string, value: unknown): never {
  throw new ForgeError('validation_error', `OIDC role map: ${path} is ${JSON.stringify(value)}: expected ${expected}`);
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0))
    problem(path, 'a list of non-empty strings', value);
  return value as string[];
}

function roleList(value: unknown, path: string): string[] {
  const roles = stringList(value, path);
  roles.forEach((r, i) => {
    if (!ROLE_PATTERN.test(r)) problem(`${path}[${i}]`, 'service-account, developer, operator, deployer:<env> or approver:<env>', r);
  });
  return roles;
}

function roleTable(value: unknown, path: string): Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) problem(path, 'an object of name → list of roles', value);
  return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, roleList(v, `${path}.${k}`)]));
}

export function parseRoleMapping(text: string): RoleMapping {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ForgeError('validation_error', `OIDC role map is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) problem('the map', 'a JSON object', raw);
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !FIELDS.includes(k));
  if (unknown.length) problem(unknown[0], `one of ${FIELDS.join(', ')}`, o[unknown[0]]);
  return {
    claims: o.claims === undefined ? ['groups', 'roles'] : stringList(o.claims, 'claims'),
    groups: o.groups === undefined ? {} : roleTable(o.groups, 'groups'),
    clients: o.clients === undefined ? {} : roleTable(o.clients, 'clients'),
    default_roles: o.default_roles === undefined ? [] : roleList(o.default_roles, 'default_roles'),
    subject_claims:
      o.subject_claims === undefined ? ['email', 'preferred_username', 'sub'] : stringList(o.subject_claims, 'subject_claims'),
  };
}

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path]; // a claim name that itself holds dots (URL-named claims)
  return path
    .split('.')
    .reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), claims);
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** The principal a verified token's claims stand for. */
export function principalFromClaims(mapping: RoleMapping, claims: Record<string, unknown>): Principal {
  const clientId = typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined;
  const isClient = clientId !== undefined && (claims.sub === undefined || claims.sub === clientId);
  const roles = new Set<string>();
  if (isClient) {
    for (const r of mapping.clients[clientId] ?? []) roles.add(r);
  } else {
    for (const r of mapping.default_roles) roles.add(r);
  }
  for (const path of mapping.claims) {
    for (const name of strings(claimAt(claims, path))) {
      for (const r of mapping.groups[name] ?? []) roles.add(r);
    }
  }
  const subject = isClient
    ? `client:${clientId}`
    : mapping.subject_claims.map((c) => claimAt(claims, c)).find((v): v is string => typeof v === 'string' && v.length > 0);
  if (!subject) {
    throw new ForgeError(
      'authentication_required',
      `the token names no subject: expected one of the claims ${mapping.subject_claims.join(', ')}`,
    );
  }
  return { subject, roles: [...roles].sort() };
}
