/** Roles and what they allow (DESIGN.md §11). Pure: the server asks, the roles answer. */

export type Action =
  | { kind: 'read' }
  | { kind: 'release:create' }
  | { kind: 'deploy'; environment: string } // deploy, roll back, pin and unpin
  | { kind: 'approve'; environment: string } // approve and revoke
  | { kind: 'admin' }; // audit and operator-only views

export interface Principal {
  subject: string;
  roles: string[];
}

export const ROLE_PATTERN = /^(service-account|developer|operator|(deployer|approver):[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$/;

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
  }
}
