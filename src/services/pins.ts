/**
 * Pins (DESIGN.md §8, POST /pins, DELETE /pins/...): an environment/project that auto-deploys
 * leave alone until it is unpinned. Rollbacks pin too (outbox.ts, when the rollback lands).
 */

import type { Pin, PinRequest } from '../contract/index.js';
import { ForgeError } from '../core/errors.js';
import { appendAudit } from '../store/audit.js';
import * as pins from '../store/pins.js';
import type { PlatformContext } from './deployment-context.js';
import { type Caller, permitted, permittedIn } from './permission.js';
import { checkTarget } from './target.js';

/** Pins (or re-pins, replacing who and why) the environment/project against auto-deploys; audited `pin.set`. */
export async function pinProject(ctx: PlatformContext, caller: Caller, body: PinRequest): Promise<Pin> {
  const principal = permittedIn(caller, 'deploy', body.environment);
  const { repository, project, environment } = checkTarget(ctx, body);
  return ctx.db.transaction(async (tx) => {
    const pin = await pins.pin(tx, {
      environment: environment.name,
      repository,
      project,
      pinned_by: principal.subject,
      reason: body.reason ?? null,
      deployment_id: null,
    });
    await appendAudit(tx, {
      actor: principal.subject,
      action: 'pin.set',
      subject: `${environment.name}/${repository}/${project}`,
      details: { reason: body.reason ?? null },
    });
    return pin;
  });
}

/** Removes the pin so auto-deploys resume; audited `pin.removed`; 404 `not_found` when it was not pinned. */
export async function unpinProject(ctx: PlatformContext, caller: Caller, body: Omit<PinRequest, 'reason'>): Promise<Pin> {
  const principal = permitted(caller, { kind: 'deploy', environment: body.environment });
  const { repository, project, environment } = checkTarget(ctx, body);
  return ctx.db.transaction(async (tx) => {
    const removed = await pins.unpin(tx, environment.name, repository, project);
    if (!removed) throw new ForgeError('not_found', `${repository}/${project} is not pinned in ${environment.name}`);
    await appendAudit(tx, { actor: principal.subject, action: 'pin.removed', subject: `${environment.name}/${repository}/${project}` });
    return removed;
  });
}
