/**
 * Break-glass (issue #16, spec §Policies & Approvals): the governed way through a freeze. A
 * deployer asks for ONE release in ONE environment, with a reason; a second person holding
 * `approver:<env>` (never the requester) grants it, with a justification; the grant lets that
 * release (by id and digest) pass the freeze rule in that environment until it expires (the
 * environment's `break_glass.expires_after`, 4 h by default) and lets nothing else pass. Every
 * step is audited (`break_glass.requested`, `break_glass.granted`), so it is a webhook event too.
 * The freeze schedule itself (`forge freeze list`) is answered here as well.
 */
import { randomUUID } from 'node:crypto';
import type { BreakGlass, BreakGlassQuery, BreakGlassRequest, FreezeOccurrence, FreezeWindows, List } from '../contract/index.js';
import { windowOf } from '../core/cursor.js';
import { ForgeError, validationError } from '../core/errors.js';
import { activeOccurrence, nextOccurrence, type FreezeOccurrence as Occurrence } from '../core/freeze-windows.js';
import { isUuid } from '../core/identity.js';
import type { Principal } from '../core/permissions.js';
import { DEFAULT_BREAK_GLASS_EXPIRES_AFTER_MS, findEnvironment } from '../core/platform-config.js';
import { parseRfc3339, rfc3339Problem } from '../core/rfc3339.js';
import { appendAudit } from '../store/audit.js';
import * as store from '../store/break-glass.js';
import * as releases from '../store/releases.js';
import type { PlatformContext } from './deployment-context.js';
import { type Caller, permittedIn, requirePermission } from './permission.js';
import { checkTarget, requireReleaseRef } from './target.js';

function text(value: unknown, field: string, what: string): string {
  const t = typeof value === 'string' ? value.trim() : '';
  if (!t) throw validationError([{ path: field, message: what }]);
  return t;
}

/** POST /break-glass: 201 with the request; 403 without `deployer:<env>`; 400/404 for the target and reference. */
export async function requestBreakGlass(ctx: PlatformContext, caller: Caller, body: BreakGlassRequest): Promise<BreakGlass> {
  const principal = permittedIn(caller, 'deploy', body.environment);
  const { repository, project, environment } = checkTarget(ctx, body);
  const reason = text(body.reason, 'reason', 'a break-glass needs a reason: say why this release must pass the freeze');
  const release = await releases.resolveRelease(ctx.db, repository, project, requireReleaseRef(body.release));
  const id = randomUUID();
  await ctx.db.transaction(async (tx) => {
    await store.insertBreakGlass(tx, {
      id,
      release_id: release.id,
      release_digest: release.oci_digest,
      repository,
      project,
      environment: environment.name,
      reason,
      requested_by: principal.subject,
    });
    await appendAudit(tx, {
      actor: principal.subject,
      action: 'break_glass.requested',
      subject: id,
      details: { release: release.canonical_id, digest: release.oci_digest, environment: environment.name, reason },
    });
  });
  return (await store.getBreakGlass(ctx.db, id))!;
}

/**
 * POST /break-glass/{id}/approve: grants it until `expires_after` from now. 404 when there is no
 * such request; 403 `permission_denied` without `approver:<env>` or for the requester; 409
 * `conflict` when it was granted already; 400 without a justification.
 */
export async function grantBreakGlass(ctx: PlatformContext, principal: Principal, id: string, justification: unknown): Promise<BreakGlass> {
  const found = isUuid(id) ? await store.getBreakGlass(ctx.db, id) : undefined;
  if (!found) throw new ForgeError('not_found', `no break-glass request ${id}`);
  requirePermission(principal, { kind: 'approve', environment: found.environment });
  if (found.requested_by === principal.subject) {
    throw new ForgeError(
      'permission_denied',
      `${principal.subject} asked for break-glass ${id} and may not grant it: a second person with approver:${found.environment} must`,
      { required: `approver:${found.environment}, not the requester`, requested_by: found.requested_by },
    );
  }
  const why = text(justification, 'justification', 'a grant needs a justification: say why the freeze may be broken for this release');
  const expiresAfterMs = findEnvironment(ctx.platform, found.environment)?.breakGlassExpiresAfterMs ?? DEFAULT_BREAK_GLASS_EXPIRES_AFTER_MS;
  await ctx.db.transaction(async (tx) => {
    if (!(await store.grantBreakGlass(tx, id, principal.subject, why, expiresAfterMs))) {
      throw new ForgeError(
        'conflict',
        `break-glass ${id} is ${found.status === 'requested' ? 'no longer waiting' : found.status}; only a request can be granted, once`,
      );
    }
    await appendAudit(tx, {
      actor: principal.subject,
      action: 'break_glass.granted',
      subject: id,
      details: {
        release_id: found.release_id,
        digest: found.release_digest,
        environment: found.environment,
        requested_by: found.requested_by,
        justification: why,
        expires_after_ms: expiresAfterMs,
      },
    });
  });
  return (await store.getBreakGlass(ctx.db, id))!;
}

export async function getBreakGlass(ctx: Pick<PlatformContext, 'db'>, id: string): Promise<BreakGlass> {
  const found = isUuid(id) ? await store.getBreakGlass(ctx.db, id) : undefined;
  if (!found) throw new ForgeError('not_found', `no break-glass request ${id}`);
  return found;
}

/** GET /break-glass: newest first, optionally of one environment and status; `limit` after `cursor`, else after `offset`. 400 for a cursor this list did not give. */
export async function listBreakGlass(ctx: Pick<PlatformContext, 'db'>, q: BreakGlassQuery): Promise<List<BreakGlass>> {
  const { limit, offset, after } = windowOf(q, ['timestamp', 'uuid']);
  return { ...(await store.listBreakGlass(ctx.db, { environment: q.environment, status: q.status }, limit, offset, after)), limit, offset };
}

function wire(environment: string, o: Occurrence): FreezeOccurrence {
  return {
    environment,
    window: o.name,
    start: o.start.toISOString(),
    end: o.end.toISOString(),
    timezone: o.timezone ?? null,
    applies_to: o.appliesTo,
  };
}

/** GET /freeze-windows: the windows in force at `at` (default now) and each window's next occurrence, by environment. */
export function freezeSchedule(ctx: Pick<PlatformContext, 'platform'>, q: { environment?: string; at?: string }): FreezeWindows {
  const at = q.at === undefined ? new Date() : parseRfc3339(q.at);
  if (!at) throw validationError([{ path: 'at', message: rfc3339Problem(q.at!)! }]);
  if (q.environment !== undefined && !findEnvironment(ctx.platform, q.environment))
    throw new ForgeError('not_found', `environment "${q.environment}" is not configured`);
  const current: FreezeOccurrence[] = [];
  const next: FreezeOccurrence[] = [];
  for (const env of ctx.platform.environments.filter((e) => q.environment === undefined || e.name === q.environment)) {
    for (const w of env.freezeWindows ?? []) {
      const now = activeOccurrence(w, at);
      if (now) current.push(wire(env.name, now));
      const upcoming = nextOccurrence(w, at);
      if (upcoming) next.push(wire(env.name, upcoming));
    }
  }
  next.sort((a, b) => a.start.localeCompare(b.start));
  return { at: at.toISOString(), current, next };
}
