/** The public REST API (DESIGN.md §10), called with the user's bearer token. Nothing else. */
import { type Identity, session } from './session.js';

export const API = '/api/v1';

/**
 * The API's data types come from its one contract (src/contract): the dashboard is type-checked
 * against what the server validates and sends, and its build fails when the contract changes.
 */
export type {
  Alias,
  Approval,
  ApprovalContext,
  ApprovalState,
  Artifact,
  AuditChainCheck,
  AuditEntry,
  BreakGlass,
  Deployment,
  DoraMetrics,
  Environment,
  EnvironmentDeployment,
  EventKind,
  LatestInEnvironment,
  List,
  OverviewCell,
  OverviewPage,
  OverviewRow,
  PolicyCheck,
  PolicyResult,
  ProjectSummary,
  PromotionPolicy,
  Release,
  SemanticDiff,
  Trigger,
  Whoami,
} from '../../src/contract/index.js';

/** An error answered by the server, in its envelope `{error: {code, message, details}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

type Body = Record<string, unknown>;

async function call(method: string, path: string, body?: Body, accept = 'application/json', token = session.token()): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${API}${path}`, {
      method,
      headers: {
        accept,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The server could not be reached. Check your connection and try again.');
  }
  if (res.ok) return res;
  let envelope: { error?: { code?: string; message?: string; details?: Record<string, unknown> } } = {};
  try {
    envelope = await res.json();
  } catch {
    /* not JSON: use the status line */
  }
  const err = new ApiError(
    res.status,
    envelope.error?.code ?? 'http_error',
    envelope.error?.message ?? `${res.status} ${res.statusText}`,
    envelope.error?.details,
  );
  if (res.status === 401 && token === session.token()) session.expired(err.message);
  throw err;
}

/** Who the server takes a token for (GET /whoami), asked before the token is stored. */
export const whoami = async (token: string): Promise<Identity> =>
  (await call('GET', '/whoami', undefined, 'application/json', token)).json();
export const get = async <T>(path: string): Promise<T> => (await call('GET', path)).json() as Promise<T>;
export const getText = async (path: string, accept = 'text/plain'): Promise<string> => (await call('GET', path, undefined, accept)).text();
export const post = async <T>(path: string, body: Body): Promise<T> => (await call('POST', path, body)).json() as Promise<T>;

/** `acme/mono` + `auth-service` → `acme/mono/auth-service`, each segment escaped. */
export const projectPath = (repository: string, project: string) => [...repository.split('/'), project].map(encodeURIComponent).join('/');

export const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};
