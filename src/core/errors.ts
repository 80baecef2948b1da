/** The error vocabulary of DESIGN.md §10: every failure that reaches a user carries one of these codes. */
export type ErrorCode =
  | 'validation_error'
  | 'authentication_required'
  | 'permission_denied'
  | 'policy_denied'
  | 'not_found'
  | 'conflict'
  | 'alias_conflict'
  | 'ambiguous_reference'
  | 'payload_too_large'
  | 'registry_unavailable'
  | 'gitops_unavailable'
  | 'gitops_rejected'
  | 'database_unavailable'
  | 'too_many_requests'
  | 'signing_key_retired'
  | 'server_busy'
  | 'internal_error';

const STATUS: Record<ErrorCode, number> = {
  validation_error: 400,
  authentication_required: 401,
  permission_denied: 403,
  policy_denied: 403,
  not_found: 404,
  conflict: 409,
  alias_conflict: 409,
  ambiguous_reference: 409,
  payload_too_large: 413,
  registry_unavailable: 503,
  gitops_unavailable: 503,
  /** The GitOps remote refused the push for good (a hook, a protected branch, permissions): its own message is carried. */
  gitops_rejected: 502,
  database_unavailable: 503,
  /** A per-replica cap (open event streams) is reached: retry later or elsewhere. */
  too_many_requests: 429,
  /** This replica's signing key was retired (or is unknown to the installation) while it ran: it signs nothing until restarted with a current key. */
  signing_key_retired: 503,
  /** Heavy work (a diff, a registration's packing) has a full queue on this replica: retry after `details.retry_after_seconds` (also the Retry-After header). */
  server_busy: 503,
  internal_error: 500,
};

export class ForgeError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ForgeError';
    this.status = STATUS[code];
  }
}

/** One invalid field of a request: `path` names it the way the user wrote it (`resources[3].metadata.name`). */
export interface FieldProblem {
  path: string;
  message: string;
}

export function validationError(problems: FieldProblem[]): ForgeError {
  const text = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return new ForgeError('validation_error', `invalid request: ${text}`, { fields: problems });
}

export function errorEnvelope(err: ForgeError) {
  return { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
}
