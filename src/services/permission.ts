/**
 * The permission step of every deployment, approval and pin use case (DESIGN.md §11): the roles
 * answer (core/permissions.ts); this turns a "no" into the 403 the API gives, once per request.
 * The HTTP routes must check before the body schema (a caller without the role hears 403 even
 * when its request is also malformed); they hand the use case the `Permit` they got, and the
 * use case does not check again. Callers without a permit (tests, benches) pass the principal.
 */
import { ForgeError } from '../core/errors.js';
import { projectProblem } from '../core/identity.js';
import { type Action, describeAction, isAllowed, type Principal } from '../core/permissions.js';

/** Throws `permission_denied` (403, details: required, roles) unless `principal` may do `action`. */
export function requirePermission(principal: Principal, action: Action): void {
  if (!isAllowed(principal, action)) {
    throw new ForgeError('permission_denied', `${principal.subject} may not do this: it needs ${describeAction(action)}`, {
      required: describeAction(action),
      roles: principal.roles,
    });
  }
}

/** Proof that a principal may do one action: made only by `Permit.check`. */
export class Permit {
  private constructor(
    readonly principal: Principal,
    readonly action: Action,
  ) {}

  /** The permit, or `permission_denied` (403). */
  static check(principal: Principal, action: Action): Permit {
    requirePermission(principal, action);
    return new Permit(principal, action);
  }

  /** Whether this permit is for exactly `action` (same kind, same environment). */
  covers(action: Action): boolean {
    const environment = (a: Action) => ('environment' in a ? a.environment : undefined);
    return this.action.kind === action.kind && environment(this.action) === environment(action);
  }
}

/** Who calls a use case: a principal (its permission is checked by the use case) or a permit checked earlier. */
export type Caller = Principal | Permit;

/** The principal of `caller`, checked for `action` unless `caller` is a permit for it (403 `permission_denied` otherwise). */
export function permitted(caller: Caller, action: Action): Principal {
  if (caller instanceof Permit && caller.covers(action)) return caller.principal;
  const principal = caller instanceof Permit ? caller.principal : caller;
  requirePermission(principal, action);
  return principal;
}

/**
 * Whether a request's `environment` can be an environment's name (a DNS label, as the platform
 * config requires), so that it may be judged and quoted in a refusal: anything else is the
 * target check's 400, and never reaches a message or the audit log (a 1 MB "environment" once
 * did, through the permission refusal).
 */
export function isEnvironmentName(environment: unknown): environment is string {
  return typeof environment === 'string' && projectProblem(environment) === undefined;
}

/**
 * The principal of `caller`, checked for `kind` in `environment` when the request names one: a
 * missing or malformed environment is the target check's 400, which comes next.
 */
export function permittedIn(caller: Caller, kind: 'deploy' | 'approve', environment: unknown): Principal {
  if (isEnvironmentName(environment)) return permitted(caller, { kind, environment });
  return caller instanceof Permit ? caller.principal : caller;
}
