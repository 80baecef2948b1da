/** Roles and what they allow (DESIGN.md §11). Pure: the server asks, the roles answer. */

export type Action =
  | { kind: 'read' }
  | { kind: 'release:create' }
  | { kind: 'deploy'; environment: string } // deploy, roll back, pin and unpin
  | { kind: 'approve'; environment: string } // approve and revoke
  | { kind: 'admin' } // audit and operator-only views
  | { kind: 'integration:argocd' }; // post Argo CD Applications (issue 15): that role only, not even operator

export interface Principal {
  /**
   * Who it is, stably: every rule about "who" (distinct approvers, self-approval, break-glass,
   * audit actors) compares this. An embedded token's `sub`; for OIDC, `<issuer>#<sub>` (issue
   * #13 item 2), never an email, which some providers let users change.
   */
  subject: string;
  roles: string[];
  /** A name to show (an OIDC user's email); for display only, never compared. Absent: the subject. */
  display?: string;
  /**
   * A pipeline identity's repositories (`owner/name`, lower-case; issue #13 item 7): it may
   * release only these. Absent or empty: any repository (a single-repository installation).
   */
  repositories?: string[];
}

/**
 * Whether `principal` may register releases of `repository`: a service account bound to
 * repositories only of those, an unbound one of any (see Principal.repositories).
 */
export function mayReleaseRepository(principal: Principal, repository: string): boolean {
  const bound = principal.repositories ?? [];
  return bound.length === 0 || bound.includes(repository.toLowerCase());
}

export const ROLE_PATTERN =
  /^(service-account|developer|operator|integration:argocd|(deployer|approver):[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/;

export function isAllowed(principal: Principal, action: Action): boolean {
  const roles = new Set(principal.roles);
  switch (action.kind) {
    case 'read':
      return roles.size > 0;
    case 'release:create':
      return roles.has('service-account');
    case 'deploy':
      return roles.has('operator') || roles.has(`deployer:${action.environment}`);
    case 'approve':
      return roles.has('operator') || roles.has(`approver:${action.environment}`);
    case 'admin':
      return roles.has('operator');
    case 'integration:argocd':
      return roles.has('integration:argocd');
  }
}

export function describeAction(action: Action): string {
  switch (action.kind) {
    case 'read':
      return 'any role';
    case 'release:create':
      return 'the service-account role';
    case 'deploy':
      return `the deployer:${action.environment} or operator role`;
    case 'approve':
      return `the approver:${action.environment} or operator role`;
    case 'admin':
      return 'the operator role';
    case 'integration:argocd':
      return 'the integration:argocd role';
  }
}
