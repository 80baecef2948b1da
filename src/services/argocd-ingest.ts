/**
 * Ingest what Argo CD knows (issue 15): one posted or polled `Application` → the slot it deploys
 * (by its source path) → the slot's latest observation, and the active deployment's outcome
 * (committed → synced → healthy / degraded / sync failed) when the revision Argo CD reports is
 * that deployment's. Events go to the audit log (so to webhooks and the event stream) as
 * `deployment.synced|healthy|degraded|sync_failed`, with a CDEvents-shaped `cdevent` in their
 * details. A degraded or failed sync hands over to the automatic rollback.
 *
 * Replicas: the observation and the outcome are written in one transaction under the slot's
 * lock, with the outcome row locked, so two replicas ingesting the same Application (a
 * notification and a poll) record each event once. Notifications arriving out of order are
 * ordered by `status.reconciledAt`: an older one changes nothing.
 */
import type { ArgocdIngestResult, Deployment, Release } from '../contract/index.js';
import { type ApplicationFacts, advanceOutcome, matchApplication, observedRevision, parseApplication } from '../core/argocd-application.js';
import { ForgeError, validationError } from '../core/errors.js';
import { parsePointer, pointerPath } from '../core/pointer.js';
import { argocdUnmatched, commitToSynced, syncedToHealthy } from '../observability/metrics.js';
import { appendAudit } from '../store/audit.js';
import * as outcomes from '../store/cluster-outcomes.js';
import * as deployments from '../store/deployments.js';
import * as releases from '../store/releases.js';
import { considerAutoRollback } from './argocd-auto-rollback.js';
import type { DeployContext } from './deployment-context.js';

/**
 * Who reported, and which repository is Forge's: `actor` is recorded as the actor of the events
 * (the posting token's subject, `<issuer>#<sub>` for OIDC; `forge:argocd-poll` for a poll),
 * `repoUrl` is the GitOps repository as Argo CD names it (settings `argocd.repoUrl`).
 */
export interface IngestOptions {
  repoUrl: string;
  actor: string;
}

/** CDEvents (v0.4) event types the deployment events correspond to; `healthy` has none, so a custom one. */
const CDEVENT_TYPE: Record<string, string> = {
  synced: 'dev.cdevents.service.deployed.0.2.0',
  healthy: 'dev.cdeventsx.forge-service.healthy.0.1.0',
  degraded: 'dev.cdevents.incident.detected.0.2.0',
  sync_failed: 'dev.cdevents.incident.detected.0.2.0',
  rolled_back: 'dev.cdevents.service.rolledback.0.2.0',
};

/**
 * The details of a deployment event: the slot, the release, and a `cdevent` shaped as a
 * CDEvents event (context: type, source, timestamp; subject: id, content with environment and
 * artifactId) so DORA tools that read CDEvents can read it.
 */
export function deploymentEventDetails(
  event: string,
  d: Pick<Deployment, 'id' | 'environment' | 'repository' | 'project' | 'release_number'>,
  release: Pick<Release, 'canonical_id' | 'oci_uri' | 'oci_digest'>,
  at: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    environment: d.environment,
    repository: d.repository,
    project: d.project,
    release_number: d.release_number,
    release: release.canonical_id,
    ...extra,
    cdevent: {
      context: { specversion: '0.4.1', type: CDEVENT_TYPE[event], source: 'forge', timestamp: at },
      subject: {
        id: `${d.repository}/${d.project}`,
        source: 'forge',
        content: {
          environment: { id: d.environment, source: 'forge' },
          artifactId: `${release.oci_uri.split('@')[0]}@${release.oci_digest}`,
          ...(event === 'degraded' || event === 'sync_failed' ? { description: `deployment ${event.replace('_', ' ')}` } : {}),
        },
      },
    },
  };
}

/**
 * Whether `revision` is deployment `d`'s: its GitOps commit, or a later commit whose pointer
 * file is still the one `d` wrote (so unrelated commits to other paths do not hide it). Asks git.
 */
export async function revisionIsDeployment(ctx: Pick<DeployContext, 'gitops'>, d: Deployment, revision: string | null): Promise<boolean> {
  if (!revision || !d.gitops_commit_sha) return false;
  if (revision === d.gitops_commit_sha) return true;
  const content = await ctx.gitops.fileAt(revision, pointerPath(d));
  if (!content) return false;
  try {
    if (parsePointer(content).deploymentId !== d.id) return false;
  } catch {
    return false;
  }
  return ctx.gitops.isAncestor(d.gitops_commit_sha, revision);
}

/**
 * Processes one Application (a JSON value as posted or polled). Answers what it matched and
 * which events were recorded. Throws 400 `validation_error` (with every problem) for a body
 * that is not an Application. `source` labels the unmatched counter.
 */
export async function ingestApplication(
  ctx: DeployContext,
  body: unknown,
  source: 'notification' | 'poll',
  opts: IngestOptions,
  now: () => Date = () => new Date(),
): Promise<ArgocdIngestResult> {
  const parsed = parseApplication(body);
  if (!parsed.ok) {
    throw validationError(parsed.problems.map((p) => ({ path: p.path, message: p.message })));
  }
  return ingestFacts(ctx, parsed.app, source, opts, now);
}

/**
 * As ingestApplication, for an Application already parsed. It matches (`matched: true`) only
 * when one of its sources is Forge's GitOps repository at a slot's path, of a project Forge has
 * releases of; anything else is ignored, answered `matched: false` and counted in
 * `forge_argocd_unmatched_applications_total`. For a multi-source Application the revisions
 * are those of the matching source (`status.sync.revisions[i]`).
 */
export async function ingestFacts(
  ctx: DeployContext,
  parsedApp: ApplicationFacts,
  source: 'notification' | 'poll',
  opts: IngestOptions,
  now: () => Date = () => new Date(),
): Promise<ArgocdIngestResult> {
  const match = matchApplication(
    parsedApp,
    ctx.platform.environments.map((e) => e.name),
    opts.repoUrl,
  );
  const unmatched = (note: string): ArgocdIngestResult => {
    argocdUnmatched.inc({ source });
    return { application: parsedApp.name, matched: false, events: [], note };
  };
  if (!match.slot) {
    // (Forge's own URL is not echoed: FORGE_GITOPS_URL may carry credentials)
    const repos = [...new Set(parsedApp.sources.map((s) => s.repoURL ?? '(none)'))];
    const shown = repos.length ? `${repos.slice(0, 3).join(', ')}${repos.length > 3 ? ', …' : ''}` : 'no source';
    return unmatched(
      match.why === 'repository'
        ? `no source is Forge's GitOps repository (FORGE_ARGOCD_REPO_URL; the application's: ${shown}): ignored`
        : `no source path of the form <env>/apps/<owner>/<name>/<project> with a configured environment (${parsedApp.paths.join(', ') || 'no path'}): ignored`,
    );
  }
  const slot = match.slot;
  if (!(await outcomes.projectKnown(ctx.db, slot.repository, slot.project)))
    return unmatched(`Forge has no release of ${slot.repository}/${slot.project}: ignored`);
  // The revisions of the source that matched (a multi-source Application has one per source).
  const app: ApplicationFacts = { ...parsedApp, syncRevision: match.syncRevision, syncResultRevision: match.syncResultRevision };
  const active = await deployments.activeDeployment(ctx.db, slot.environment, slot.repository, slot.project);
  const ours = active ? await revisionIsDeployment(ctx, active, app.syncRevision) : false;
  const opOurs = active ? await revisionIsDeployment(ctx, active, app.syncResultRevision) : false;
  const at = now().toISOString();
  const base = { application: app.name, matched: true, ...slot };
  const result = await ctx.db.transaction(async (tx) => {
    await deployments.lockSlot(tx, slot.environment, slot.repository, slot.project);
    const stored = await outcomes.recordObservation(tx, {
      ...slot,
      application: app.name,
      sync_status: app.syncStatus,
      health_status: app.healthStatus,
      revision: observedRevision(app),
      operation_phase: app.operationPhase,
      operation_finished_at: app.operationFinishedAt,
      // A time ahead of this server's clock (skew, or a forged report) would order every later
      // report before it and silence the slot: it counts as now.
      // (Argo CD's times have whole seconds: so does the clamp, so the next honest report is not older.)
      reconciled_at:
        app.reconciledAt && Date.parse(app.reconciledAt) > Date.parse(at)
          ? new Date(Math.floor(Date.parse(at) / 1000) * 1000).toISOString()
          : app.reconciledAt,
      observed_at: at,
      deployment_id: active?.id ?? null,
      revision_is_deployment: ours,
    });
    if (!stored)
      return {
        ...base,
        deployment_id: active?.id ?? null,
        events: [],
        note: 'an older observation than the one already recorded: ignored',
      };
    if (!active) return { ...base, deployment_id: null, events: [], note: 'no deployment of this project is active in this environment' };
    // The active deployment may have changed since it was read: only the one read is judged.
    const current = await deployments.activeDeployment(tx, slot.environment, slot.repository, slot.project);
    if (current?.id !== active.id) return { ...base, deployment_id: null, events: [], note: 'the active deployment changed meanwhile' };
    if (!ours && !opOurs)
      return {
        ...base,
        deployment_id: active.id,
        events: [],
        note: `revision ${observedRevision(app) ?? '(none)'} is not this deployment's (${active.gitops_commit_sha}): recorded as the cluster's view only`,
      };
    const before = (await outcomes.lockOutcome(tx, active.id))!;
    const { outcome, events } = advanceOutcome(before, app, ours, opOurs, at);
    await outcomes.writeOutcome(tx, { ...before, ...outcome });
    const release = events.length ? (await releases.findById(tx, active.release_id))! : undefined;
    for (const e of events) {
      await appendAudit(tx, {
        actor: opts.actor,
        action: `deployment.${e}`,
        subject: active.id,
        details: deploymentEventDetails(e, active, release!, at, {
          application: app.name,
          revision: e === 'sync_failed' ? app.syncResultRevision : app.syncRevision,
          sync_status: app.syncStatus,
          health_status: app.healthStatus,
          operation_phase: app.operationPhase,
        }),
      });
    }
    return { ...base, deployment_id: active.id, events: events.map((e) => `deployment.${e}`), before, outcome };
  });
  const { before, outcome, ...answer } = result as typeof result & { before?: outcomes.Outcome; outcome?: outcomes.Outcome };
  if (active && outcome && before) {
    if (outcome.synced_at && !before.synced_at && active.finished_at)
      commitToSynced.observe(
        { environment: slot.environment },
        Math.max(0, (Date.parse(outcome.synced_at) - Date.parse(active.finished_at)) / 1000),
      );
    if (outcome.healthy_at && !before.healthy_at && outcome.synced_at)
      syncedToHealthy.observe(
        { environment: slot.environment },
        Math.max(0, (Date.parse(outcome.healthy_at) - Date.parse(outcome.synced_at)) / 1000),
      );
    const events: string[] = answer.events;
    const cause = events.includes('deployment.degraded') ? 'degraded' : events.includes('deployment.sync_failed') ? 'sync_failed' : null;
    if (cause) {
      // In the background: the notification is answered at once; the rollback's outcome is in the audit log.
      const job = considerAutoRollback(ctx, active, cause, new Date(), opts.actor)
        .catch((err: Error) => process.stderr.write(`automatic rollback of deployment ${active.id} failed: ${err.message}\n`))
        .finally(() => ctx.inflight.delete(job));
      ctx.inflight.add(job);
    }
  }
  return answer as ArgocdIngestResult;
}

/** 503 when the server has no GitOps repository, so no deployments to match. */
export function requireDeployments(ctx: DeployContext | undefined): DeployContext {
  if (!ctx)
    throw new ForgeError(
      'gitops_unavailable',
      'this server has no GitOps repository: it has no deployments to match Argo CD applications to',
    );
  return ctx;
}
