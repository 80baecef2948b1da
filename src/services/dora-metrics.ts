/**
 * GET /metrics/dora as a read model (issue 15): the DORA figures (core/dora.ts) of the
 * deployments that became active in [from, to), optionally of one environment, repository
 * and project. One query.
 */
import type { DoraMetrics, DoraQuery } from '../contract/index.js';
import { doraFigures } from '../core/dora.js';
import { validationError } from '../core/errors.js';
import { parseRfc3339, rfc3339Problem } from '../core/rfc3339.js';
import { doraRows } from '../store/cluster-outcomes.js';
import type { Db } from '../store/db.js';

/** Default range: the 30 days up to now. 400 when `from` is not before `to`. */
export async function doraMetrics(ctx: { db: Db }, q: DoraQuery, now: Date = new Date()): Promise<DoraMetrics> {
  for (const k of ['from', 'to'] as const) {
    const v = q[k];
    if (v !== undefined && !parseRfc3339(v)) throw validationError([{ path: `query.${k}`, message: rfc3339Problem(v)! }]);
  }
  const to = q.to ? parseRfc3339(q.to)! : now;
  const from = q.from ? parseRfc3339(q.from)! : new Date(to.getTime() - 30 * 86_400_000);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to)
    throw validationError([{ path: 'query.from', message: 'must be an RFC 3339 time before to' }]);
  if (to.getTime() - from.getTime() > 3660 * 86_400_000)
    throw validationError([{ path: 'query.from', message: 'the range may span at most 10 years' }]);
  const rows = await doraRows(ctx.db, {
    environment: q.environment,
    repository: q.repository?.toLowerCase(),
    project: q.project,
    from: from.toISOString(),
    to: to.toISOString(),
  });
  return { from: from.toISOString(), to: to.toISOString(), ...doraFigures(rows, from, to) };
}
