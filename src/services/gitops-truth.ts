/**
 * Git's truth against the database's (issue #12 item 1, spec §Recovery Mechanisms): what runs is
 * the pointer at the GitOps branch tip. `compareWithGit` lists every slot where the database's
 * active deployment and the tip's pointer disagree (history rewritten, a Forge commit reverted, a
 * pointer edited or deleted by hand, the branch recreated; a deployment recorded failed whose
 * pointer is live); `adoptGitTruth` (`forge doctor --repair`) makes the database follow git,
 * one audited change per slot. Pointers of environments the platform config no longer has are
 * reported as orphaned (item 4), never adopted.
 */
import { randomUUID } from 'node:crypto';
import type { Release } from '../contract/index.js';
import { type PointerError, parsePointer, pointerPath, type ReleasePointer } from '../core/pointer.js';
import { appendAudit } from '../store/audit.js';
import * as deployments from '../store/deployments.js';
import * as releases from '../store/releases.js';
import type { DeployContext } from './deployment-context.js';

/** One slot (environment/repository/project) where git and the database disagree. */
export interface Disagreement {
  environment: string;
  repository: string;
  project: string;
  /** The pointer file. */
  path: string;
  /** What the database says runs: its active deployment, or null. */
  database: { deployment_id: string; release_number: number; commit_sha: string } | null;
  /** What the tip's pointer says runs, or null when there is no pointer; `invalid` when it cannot be read. */
  git: (ReleasePointer & { release_known: boolean }) | null | 'invalid';
  /** The disagreement in words. */
  problem: string;
  /** Whether `adoptGitTruth` can make the database follow git here (false: a pointer naming no known release, or an unreadable one, or an orphaned environment). */
  adoptable: boolean;
  /** The environment is no longer in the platform config. */
  orphaned: boolean;
}

type TruthContext = Pick<DeployContext, 'db' | 'gitops' | 'platform'>;

const SLOT_PATH = /^([a-z0-9-]+)\/apps\/([a-z0-9._-]+\/[a-z0-9._-]+)\/([a-z0-9-]+)\/release\.yaml$/;

/**
 * Every disagreement between the database's active deployments and the pointers at the GitOps
 * branch tip (fetched now). `only`: judge only the slots of the environments it accepts (the
 * orphans' listing asks for the environments the config no longer has: it need not read a
 * release per slot of the others).
 */
export async function compareWithGit(
  ctx: TruthContext,
  only: (environment: string) => boolean = () => true,
): Promise<{ tip: string | null; pointers: number; disagreements: Disagreement[] }> {
  const { tip, files } = await ctx.gitops.readPointers();
  const active = await deployments.activeDeployments(ctx.db);
  const known = new Set(ctx.platform.environments.map((e) => e.name));
  const slots = new Map<string, { environment: string; repository: string; project: string }>();
  for (const path of files.keys()) {
    const m = SLOT_PATH.exec(path);
    if (m) slots.set(path, { environment: m[1], repository: m[2], project: m[3] });
  }
  const byPath = new Map(active.map((d) => [pointerPath(d), d]));
  for (const d of active) slots.set(pointerPath(d), { environment: d.environment, repository: d.repository, project: d.project });
  const out: Disagreement[] = [];
  for (const [path, slot] of [...slots].sort(([a], [b]) => a.localeCompare(b))) {
    if (!only(slot.environment)) continue;
    const d = byPath.get(path);
    const dbRelease = d ? await releases.findById(ctx.db, d.release_id) : undefined;
    const database = d && dbRelease ? { deployment_id: d.id, release_number: d.release_number, commit_sha: dbRelease.commit_sha } : null;
    const text = files.get(path);
    const orphaned = !known.has(slot.environment);
    let git: Disagreement['git'] = null;
    let release: Release | undefined;
    let problem: string | undefined;
    if (text !== undefined) {
      try {
        const p = parsePointer(text);
        release = await releases.findBySha(ctx.db, slot.repository, slot.project, p.release);
        git = { ...p, release_known: !!release && release.oci_digest === p.digest };
      } catch (err) {
        git = 'invalid';
        problem = `${path} is not a valid pointer: ${(err as PointerError).message}`;
      }
    }
    // A pointer a deployment still pending wrote is in flight: its outcome is being recorded
    // (or recovery records it once its lease ends; doctor's pending check reports that one).
    if (!orphaned && git !== null && git !== 'invalid' && git.release_known && database?.deployment_id !== git.deploymentId) {
      const writer = await deployments.getDeployment(ctx.db, git.deploymentId);
      if (writer?.status === 'pending' && writer.environment === slot.environment && writer.project === slot.project) continue;
    }
    if (orphaned) {
      problem = `environment "${slot.environment}" is not in the platform config, but ${text !== undefined ? `${path} is still in the GitOps repository (Argo CD keeps running it)` : 'a deployment there is still recorded active'}; rename it with "forge env rename" or retire it with "forge env retire"`;
    } else if (git === null && database) {
      problem = `release ${database.release_number} is active in the database but ${path} is missing from the GitOps repository`;
    } else if (git !== null && git !== 'invalid') {
      if (!git.release_known) {
        problem = `${path} points at ${git.release.slice(0, 12)} (${git.digest}), which is no release of ${slot.repository}/${slot.project} Forge knows; ${database ? `the database's active release is ${database.release_number} (${database.commit_sha.slice(0, 12)})` : 'the database has no active deployment there'}`;
      } else if (!database) {
        problem = `${path} runs release ${release!.release_number}, but the database has no active deployment there`;
      } else if (database.commit_sha !== git.release) {
        problem = `${path} runs release ${release!.release_number} (${git.release.slice(0, 12)}), the database's active release is ${database.release_number} (${database.commit_sha.slice(0, 12)})`;
      } else if (database.deployment_id !== git.deploymentId) {
        // The same release, but written by another of Forge's deployments of it than the one recorded active.
        const own = await deployments.getDeployment(ctx.db, git.deploymentId);
        if (
          own &&
          own.release_id === release!.id &&
          own.environment === slot.environment &&
          own.repository === slot.repository &&
          own.project === slot.project
        ) {
          problem = `${path} was written by deployment ${git.deploymentId}, the database's active deployment is ${database.deployment_id}`;
        }
      }
    }
    if (!problem) continue;
    const adoptable = !orphaned && (git === null ? !!database : git !== 'invalid' && git.release_known);
    out.push({ ...slot, path, database, git, problem, adoptable, orphaned });
  }
  return { tip, pointers: files.size, disagreements: out };
}

/** What `adoptGitTruth` did in one slot. */
export interface Adoption {
  environment: string;
  repository: string;
  project: string;
  /** The deployment now active (null: nothing runs there any more). */
  active_deployment_id: string | null;
  problem: string;
}

/**
 * Makes the database follow the GitOps branch tip in every adoptable disagreement, each in one
 * transaction with a `deployment.adopted` audit entry by `actor`: the deployment that wrote the
 * live pointer becomes active again (or, for a pointer written outside Forge, a new deployment
 * of the release it names is recorded active); a slot whose pointer was deleted has its active
 * deployment superseded. Disagreements that cannot be adopted are answered in `left`.
 */
export async function adoptGitTruth(ctx: TruthContext, actor: string): Promise<{ adopted: Adoption[]; left: Disagreement[] }> {
  const { tip, disagreements } = await compareWithGit(ctx);
  const adopted: Adoption[] = [];
  const left: Disagreement[] = [];
  for (const d of disagreements) {
    if (!d.adoptable) {
      left.push(d);
      continue;
    }
    const git = d.git === 'invalid' ? null : d.git;
    const release = git ? await releases.findBySha(ctx.db, d.repository, d.project, git.release) : undefined;
    const commit = git && tip ? ((await ctx.gitops.commitIntroducing(tip, d.path, git.deploymentId)) ?? tip) : tip;
    const id = await ctx.db.transaction(async (tx) => {
      await deployments.lockSlot(tx, d.environment, d.repository, d.project);
      const current = await deployments.activeDeployment(tx, d.environment, d.repository, d.project);
      if ((current?.id ?? null) !== (d.database?.deployment_id ?? null)) return undefined; // changed meanwhile: the next run sees it
      let activeId: string | null = null;
      if (git && release) {
        const own = await deployments.getDeployment(tx, git.deploymentId);
        if (
          own &&
          own.environment === d.environment &&
          own.repository === d.repository &&
          own.project === d.project &&
          own.release_id === release.id
        ) {
          activeId = own.id;
        } else {
          activeId = randomUUID();
          await deployments.insertDeployment(tx, {
            id: activeId,
            release_id: release.id,
            repository: d.repository,
            project: d.project,
            environment: d.environment,
            kind: 'deploy',
            status: 'pending',
            deployed_by: actor,
            deployed_at: new Date().toISOString(),
            reason: `adopted from the GitOps repository: ${d.problem}`,
            approval_ids: [],
            approved_by: [],
            previous_release_id: current?.release_id ?? null,
          });
        }
        await deployments.markActive(tx, activeId, commit ?? '');
      } else if (current) {
        await deployments.retireActive(tx, current.id, `its pointer ${d.path} is no longer in the GitOps repository`);
      }
      await appendAudit(tx, {
        actor,
        action: 'deployment.adopted',
        subject: activeId ?? current?.id ?? d.path,
        details: {
          environment: d.environment,
          repository: d.repository,
          project: d.project,
          problem: d.problem,
          previous_deployment_id: current?.id ?? null,
          active_deployment_id: activeId,
          gitops_commit_sha: commit,
        },
      });
      return activeId;
    });
    if (id !== undefined)
      adopted.push({
        environment: d.environment,
        repository: d.repository,
        project: d.project,
        active_deployment_id: id,
        problem: d.problem,
      });
    else left.push(d);
  }
  return { adopted, left };
}

/**
 * The part of adoption the recovery sweep does on its own, because it is Forge's own outcome
 * recorded wrongly, not an outside change: a deployment recorded `failed` (or still pending
 * without a holder) whose pointer is live at the tip becomes active. Answers how many.
 */
export async function adoptOwnLivePointers(ctx: TruthContext): Promise<number> {
  const { tip, disagreements } = await compareWithGit(ctx);
  let n = 0;
  for (const d of disagreements) {
    if (!d.adoptable || !d.git || d.git === 'invalid') continue;
    const own = await deployments.getDeployment(ctx.db, d.git.deploymentId);
    if (own?.status !== 'failed' || own.environment !== d.environment || own.repository !== d.repository || own.project !== d.project)
      continue;
    const commit = tip ? ((await ctx.gitops.commitIntroducing(tip, d.path, own.id)) ?? tip) : '';
    const done = await ctx.db.transaction(async (tx) => {
      await deployments.lockSlot(tx, d.environment, d.repository, d.project);
      const current = await deployments.activeDeployment(tx, d.environment, d.repository, d.project);
      if ((current?.id ?? null) !== (d.database?.deployment_id ?? null)) return false;
      if ((await deployments.getDeployment(tx, own.id))?.status !== 'failed') return false;
      await deployments.markActive(tx, own.id, commit);
      await appendAudit(tx, {
        actor: 'forge:recovery',
        action: 'deployment.adopted',
        subject: own.id,
        details: {
          environment: d.environment,
          repository: d.repository,
          project: d.project,
          problem: `recorded failed, but its pointer is live in the GitOps repository`,
          previous_deployment_id: current?.id ?? null,
          active_deployment_id: own.id,
          gitops_commit_sha: commit,
        },
      });
      return true;
    });
    if (done) n++;
  }
  return n;
}
