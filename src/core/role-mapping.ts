/**
 * From an identity provider's token claims to Forge roles (DESIGN.md §11), by configuration.
 * Pure: the server verifies the token, this decides who it is and what it may do.
 *
 * The mapping (JSON, FORGE_OIDC_ROLE_MAP or FORGE_OIDC_ROLE_MAP_FILE):
 *   {
 *     "claims": ["groups", "roles", "realm_access.roles"],   // where group/role names are (dotted paths); default groups, roles
 *     "groups": { "platform-team": ["operator"], "staging-deployers": ["deployer:staging"] },
 *     "clients": { "ci-pipeline": ["service-account"] },     // service accounts by client id
 *     "client_repositories": { "ci-pipeline": ["acme/web"] }, // the repositories a client may release; default any
 *     "repository_claim": "repository",                      // bind every other token to the repository this claim names
 *     "default_roles": ["developer"],                        // every authenticated person; default none
 *     "subject_claims": ["email", "preferred_username"]      // the name SHOWN for a person; default this
 *   }
 * A client's roles apply only to the client's own tokens (client credentials: no subject, or
 * the subject is the client id), never to a person who logged in through that client.
 *
 * Who a person is (issue #13 item 2): the provider's stable subject, `<iss>#<sub>`. Every rule
 * about "who" compares it; the email (or the first `subject_claims` claim present) is only the
 * name shown (Principal.display), since some providers let users change it. A client is
 * `client:<client_id>`. `subject_claims` chose the recorded actor before this change; it now
 * chooses the display name only (a `sub` entry in it is ignored: the subject is always iss+sub).
 *
 * Pipeline identities that are not OIDC clients (issue #13 review F2), such as GitHub Actions
 * tokens (`sub: "repo:acme/a:ref:…"`, `repository: "acme/a"`, roles from a group mapping on
 * e.g. `repository_owner`): with `repository_claim`, such a token is bound to the one
 * repository its claim names (lower-cased), and a token holding `service-account` without that
 * claim (or with a claim that is no owner/name) is refused, never left unbound. Without
 * `repository_claim`, an OIDC service account that is not a client bound by
 * `client_repositories` may release any repository (a single-repository installation).
 */
import { ForgeError } from './errors.js';
import { repositoryProblem } from './identity.js';
import { parseJsonText } from './json-text.js';
import { type Principal, ROLE_PATTERN } from './permissions.js';

export interface RoleMapping {
  claims: string[];
  groups: Record<string, string[]>;
  clients: Record<string, string[]>;
  /** Client id → the `owner/name` repositories its tokens may release (issue #13 item 7); absent = any. */
  client_repositories: Record<string, string[]>;
  /** The claim (dotted path) naming the one repository a non-client token may release (review F2); absent = not bound. */
  repository_claim?: string;
  default_roles: string[];
  subject_claims: string[];
}

const FIELDS = ['claims', 'groups', 'clients', 'client_repositories', 'repository_claim', 'default_roles', 'subject_claims'];

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
    if (!ROLE_PATTERN.test(r))
      problem(`${path}[${i}]`, 'service-account, developer, operator, integration:argocd, deployer:<env> or approver:<env>', r);
  });
  return roles;
}

function roleTable(value: unknown, path: string): Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) problem(path, 'an object of name → list of roles', value);
  return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, roleList(v, `${path}.${k}`)]));
}

function repositoryTable(value: unknown, path: string): Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    problem(path, 'an object of client id → list of owner/name', value);
  return Object.fromEntries(
    Object.entries(value as object).map(([k, v]) => {
      const repos = stringList(v, `${path}.${k}`);
      repos.forEach((r, i) => {
        if (repositoryProblem(r) || r !== r.toLowerCase()) problem(`${path}.${k}[${i}]`, 'a lower-case owner/name', r);
      });
      return [k, repos];
    }),
  );
}

export function parseRoleMapping(text: string): RoleMapping {
  const raw = parseJsonText(text, 'OIDC role map');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) problem('the map', 'a JSON object', raw);
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !FIELDS.includes(k));
  if (unknown.length) problem(unknown[0], `one of ${FIELDS.join(', ')}`, o[unknown[0]]);
  return {
    claims: o.claims === undefined ? ['groups', 'roles'] : stringList(o.claims, 'claims'),
    groups: o.groups === undefined ? {} : roleTable(o.groups, 'groups'),
    clients: o.clients === undefined ? {} : roleTable(o.clients, 'clients'),
    client_repositories: o.client_repositories === undefined ? {} : repositoryTable(o.client_repositories, 'client_repositories'),
    ...(o.repository_claim === undefined
      ? {}
      : {
          repository_claim:
            typeof o.repository_claim === 'string' && o.repository_claim.length > 0
              ? o.repository_claim
              : problem('repository_claim', 'the name (or dotted path) of a claim, such as "repository"', o.repository_claim),
        }),
    default_roles: o.default_roles === undefined ? [] : roleList(o.default_roles, 'default_roles'),
    subject_claims: o.subject_claims === undefined ? ['email', 'preferred_username'] : stringList(o.subject_claims, 'subject_claims'),
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
  const claimed = claimedRepository(mapping, claims, roles);
  if (isClient) {
    const repositories = mapping.client_repositories[clientId] ?? claimed ?? [];
    return { subject: `client:${clientId}`, roles: [...roles].sort(), ...(repositories.length ? { repositories } : {}) };
  }
  const sub = typeof claims.sub === 'string' && claims.sub.length > 0 ? claims.sub : undefined;
  const iss = typeof claims.iss === 'string' && claims.iss.length > 0 ? claims.iss : undefined;
  if (!sub || !iss) {
    throw new ForgeError(
      'authentication_required',
      `the token names no ${sub ? 'issuer (iss)' : 'subject (sub)'}: a person is known by the issuer and subject the provider gives, never by an email`,
    );
  }
  const subject = oidcSubject(iss, sub);
  const display = mapping.subject_claims
    .filter((c) => c !== 'sub')
    .map((c) => claimAt(claims, c))
    .find((v): v is string => typeof v === 'string' && v.length > 0);
  return {
    subject,
    roles: [...roles].sort(),
    ...(display && display !== subject ? { display } : {}),
    ...(claimed ? { repositories: claimed } : {}),
  };
}

/**
 * With `repository_claim` set: the repository the token's claim names (lower-cased), to bind it
 * to. A token holding `service-account` whose claim is missing or no owner/name is refused:
 * a pipeline identity is never left bound to nothing (= any repository) by a missing claim.
 */
function claimedRepository(mapping: RoleMapping, claims: Record<string, unknown>, roles: Set<string>): string[] | undefined {
  if (!mapping.repository_claim) return undefined;
  const value = claimAt(claims, mapping.repository_claim);
  if (typeof value === 'string' && !repositoryProblem(value)) return [value.toLowerCase()];
  if (!roles.has('service-account')) return undefined;
  throw new ForgeError(
    'authentication_required',
    `the token holds the service-account role but its claim ${JSON.stringify(mapping.repository_claim)} (the role map's repository_claim) is ${JSON.stringify(value) ?? 'missing'}: expected the owner/name of the repository it may release`,
  );
}

/** A person's stable identity: `<issuer>#<sub>` (an issuer URL has no fragment, so the first `#` after it splits them back). */
export function oidcSubject(issuer: string, sub: string): string {
  return `${issuer}#${sub}`;
}
