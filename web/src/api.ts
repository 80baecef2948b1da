/** The public REST API (DESIGN.md §10), called with the user's bearer token. Nothing else. */
import { type Identity, session } from './session.js';

export const API = '/api/v1';

export interface Alias { alias: string; alias_type: 'numeric' | 'tag' | 'branch' }
export interface Trigger { type: string; branch: string | null; tag: string | null; triggered_by: string; triggered_at: string }
export interface Artifact {
  name: string;
  type: string;
  tracking_oci_uri?: string | null;
  tracking_oci_digest?: string | null;
  primary_published_uri?: string | null;
  outputs?: Record<string, unknown>;
  [k: string]: unknown;
}
export interface Release {
  id: string;
  canonical_id: string;
  repository: string;
  project: string;
  commit_sha: string;
  release_number: number;
  oci_uri: string;
  oci_digest: string;
  resources_digest: string;
  created_at: string;
  created_by: string;
  source: { author?: string | null; message?: string | null; committed_at?: string | null };
  triggers: Trigger[];
  aliases: Alias[];
  artifacts: Artifact[];
}
export interface Deployment {
  id: string;
  release_id: string;
  release_number: number;
  repository: string;
  project: string;
  environment: string;
  kind: 'deploy' | 'rollback' | 'auto';
  status: 'pending' | 'active' | 'superseded' | 'failed';
  deployed_by: string;
  deployed_at: string;
  gitops_commit_sha: string | null;
  approval_ids: string[];
  approved_by?: string[];
  previous_release_number: number | null;
  reason?: string | null;
  error?: string | null;
}
export interface Approval {
  id: string;
  release_id: string;
  repository: string;
  project: string;
  release_number: number;
  environment: string;
  approver: string;
  justification: string;
  approved_at: string;
  expires_at: string;
  status: 'active' | 'expired' | 'revoked';
}
export interface PolicyCheck { name: string; required: unknown; actual: unknown; ok: boolean; reason?: string }
export interface PolicyResult { allowed: boolean; checks: PolicyCheck[] }
export interface List<T> { items: T[]; total: number; limit: number; offset: number }
export interface ProjectSummary { repository: string; project: string; latest_release: Release }
export interface AuditEntry { seq: number; at: string; actor: string; action: string; subject: string; details: Record<string, unknown>; prev_hash: string; hash: string }
export interface AuditStatus { ok: boolean; checked: number; first_broken?: number }

/** An error answered by the server, in its envelope `{error: {code, message, details}}`. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: Record<string, unknown>) {
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
  try { envelope = await res.json(); } catch { /* not JSON: use the status line */ }
  const err = new ApiError(res.status, envelope.error?.code ?? 'http_error', envelope.error?.message ?? `${res.status} ${res.statusText}`, envelope.error?.details);
  if (res.status === 401 && token === session.token()) session.expired(err.message);
  throw err;
}

/** Who the server takes a token for (GET /whoami), asked before the token is stored. */
export const whoami = async (token: string): Promise<Identity> => (await call('GET', '/whoami', undefined, 'application/json', token)).json();
export const get = async <T>(path: string): Promise<T> => (await call('GET', path)).json() as Promise<T>;
export const getText = async (path: string, accept = 'text/plain'): Promise<string> => (await call('GET', path, undefined, accept)).text();
export const post = async <T>(path: string, body: Body): Promise<T> => (await call('POST', path, body)).json() as Promise<T>;

/** `acme/mono` + `auth-service` → `acme/mono/auth-service`, each segment escaped. */
export const projectPath = (repository: string, project: string) =>
  [...repository.split('/'), project].map(encodeURIComponent).join('/');

export const q = (params: Record<string, string | number | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};
