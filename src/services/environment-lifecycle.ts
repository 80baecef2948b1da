/**
 * Environments removed or renamed in the platform config while deployments exist there (issue
 * #12 item 4). The config is changed first (and every replica restarted with it); then:
 *
 * - `renameEnvironment` (`forge env rename OLD NEW`): every pointer file under `OLD/apps/` moves
 *   to `NEW/apps/` in ONE GitOps commit (the old files deleted, the new ones written with the
 *   environment renamed inside), and every settled deployment record of OLD (history,
 *   activations, the active ones), its pins, approvals and break-glass grants move to NEW, so
 *   `history` and `rollback` work under the new name.
 * - `retireEnvironment` (`forge env retire ENV`): every pointer file under `ENV/apps/` is deleted
 *   in ONE GitOps commit (Argo CD then prunes what it ran), the deployments active there end
 *   `retired` and its pins are dropped; the rest of its history stays as it was.
 *
 * A rename never puts a release into an environment whose promotion policy refuses it: every
 * release it would move in (each pointer's under `OLD/apps/`, each active deployment's of OLD)
 * is judged by NEW's policy with the rules a manual deployment to NEW by its recorded deployer
 * would meet now (`decideDeployment`: triggers, branches, NEW's own approvals, freeze windows
 * with NEW's break-glass grants, the verification gate; no pin rule, which is for auto-deploys).
 * One refusal refuses the whole rename, 403 `policy_denied` naming each project and its failed
 * checks, before anything is committed or moved; it is decided again on every attempt, in the
 * turn, from the tip the commit is built on.
 *
 * Both run in the writer's turn at the remote (the database lock the replicas share) and are
 * decided again on every attempt from the tip the commit is built on, pushed with a lease on
 * that tip (git's compare-and-swap), and the records move in that same turn, audited
 * (`environment.renamed`, `environment.retired`). Running either again once done changes
 * nothing and answers `changed: false`. Pending deployments of the old name are left to the
 * outbox, which ends each `failed` before its push (its environment is not configured).
 */
import type { EnvironmentChange, OrphanedSlot } from '../contract/index.js';
import { ForgeError } from '../core/errors.js';
import type { Environment } from '../core/platform-config.js';
import { parsePointer, renderPointer } from '../core/pointer.js';
import type { PolicyCheck } from '../core/policy/index.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import * as deployments from '../store/deployments.js';
import * as lifecycle from '../store/environment-lifecycle.js';
import * as releases from '../store/releases.js';
import type { DeployContext } from './deployment-context.js';
import { decideDeployment } from './deployment-policy.js';
import { compareWithGit } from './gitops-truth.js';

type LifecycleContext = Pick<DeployContext, 'db' | 'gitops' | 'platform'>;

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function checkName(field: string, name: string): void {
  if (!NAME.test(name))
    throw new ForgeError(
      'validation_error',
      `invalid ${field} "${name}": expected an environment name (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit)`,
      { fields: [{ field, problem: 'not an environment name' }] },
    );
}

const configured = (ctx: LifecycleContext, name: string) => ctx.platform.environments.some((e) => e.name === name);

/** Runs `fn` in the transaction holding the turn at the remote (PostgreSQL), or in one of its own (PGlite: one process, no turn). */
const inTurn = <T>(ctx: LifecycleContext, session: unknown, fn: (tx: Db) => Promise<T>): Promise<T> =>
  session ? fn(session as Db) : ctx.db.transaction(fn);

const slotKey = (s: { repository: string; project: string }) => `${s.repository}/${s.project}`;

/** `<env>/apps/<owner>/<name>/<project>/release.yaml` → `owner/name/project`. */
const slotOfPath = (path: string) => path.split('/').slice(2, 5).join('/');

/** Locks the deployment slots of both environments, in one order (no deadlock between replicas). */
async function lockSlots(tx: Db, envs: string[], slots: { repository: string; project: string }[]): Promise<void> {
  const keys = [...new Set(envs.flatMap((e) => slots.map((s) => `${e}\0${s.repository}\0${s.project}`)))].sort();
  for (const k of keys) {
    const [e, r, p] = k.split('\0');
    await deployments.lockSlot(tx, e, r, p);
  }
}

/** One release a rename would move into the new environment, and the checks of that environment's policy it fails. */
interface RefusedMove {
  repository: string;
  project: string;
  release_number: number | null;
  deployed_by: string | null;
  checks: PolicyCheck[];
}

/**
 * Judges every release a rename of `from` would put into `env` (each pointer of `pointers`, read
 * from the tip, and each active deployment of `from`) by `env`'s policy, as a manual deployment
 * by its recorded deployer; throws 403 `policy_denied` naming every refused one. A pointer Forge
 * cannot read, or naming a release it does not have, is refused too: what it would run there
 * cannot be judged.
 */
async function checkMovesAllowed(db: Db, env: Environment, from: string, pointers: { path: string; text: string | null }[]): Promise<void> {
  const moves = new Map<string, { repository: string; project: string; releaseId: string; deployer: string }>();
  const refused: RefusedMove[] = [];
  const unjudged = (path: string, number: number | null, deployer: string | null, reason: string) => {
    const [owner, name, project] = slotOfPath(path).split('/');
    refused.push({
      repository: `${owner}/${name}`,
      project,
      release_number: number,
      deployed_by: deployer,
      checks: [{ name: 'pointer', required: 'a pointer naming a release Forge has', actual: path, ok: false, reason }],
    });
  };
  for (const p of pointers) {
    if (p.text === null) continue;
    let pointer: ReturnType<typeof parsePointer>;
    try {
      pointer = parsePointer(p.text);
    } catch {
      unjudged(p.path, null, null, `${p.path} cannot be read as a Forge pointer, so the release it would run cannot be judged`);
      continue;
    }
    const id = await lifecycle.releaseIdOf(db, pointer.repository, pointer.project, pointer.releaseNumber);
    if (!id) {
      unjudged(
        p.path,
        pointer.releaseNumber,
        pointer.deployedBy,
        `${p.path} names release ${pointer.releaseNumber}, which Forge has no record of`,
      );
      continue;
    }
    moves.set(`${id}\0${pointer.deployedBy}`, {
      repository: pointer.repository,
      project: pointer.project,
      releaseId: id,
      deployer: pointer.deployedBy,
    });
  }
  for (const a of await lifecycle.activeReleases(db, from))
    moves.set(`${a.release_id}\0${a.deployed_by}`, {
      repository: a.repository,
      project: a.project,
      releaseId: a.release_id,
      deployer: a.deployed_by,
    });
  for (const m of moves.values()) {
    const release = await releases.findById(db, m.releaseId);
    if (!release) continue;
    const decision = await decideDeployment({ db }, env, release, m.deployer, false, { action: 'manual' });
    if (!decision.allowed)
      refused.push({
        repository: m.repository,
        project: m.project,
        release_number: release.release_number,
        deployed_by: m.deployer,
        checks: decision.checks.filter((c) => !c.ok),
      });
  }
  if (!refused.length) return;
  refused.sort((a, b) => `${a.repository}/${a.project}`.localeCompare(`${b.repository}/${b.project}`));
  throw new ForgeError(
    'policy_denied',
    `renaming "${from}" to "${env.name}" would put releases into "${env.name}" that its promotion policy refuses, so nothing was moved: ${refused
      .map(
        (r) =>
          `${r.repository}/${r.project}${r.release_number === null ? '' : ` release ${r.release_number}`} (${r.checks.map((c) => `${c.name}: ${c.reason}`).join('; ')})`,
      )
      .join(
        '; ',
      )}. Make each allowed there first (approve it for "${env.name}", request a break-glass, or wait out the freeze), retire "${from}" instead, or rename it to an environment whose policy allows them`,
    { refused },
  );
}

/** Renames environment `from` to `to` in the GitOps repository and the database (see the module comment). */
export async function renameEnvironment(
  ctx: LifecycleContext,
  actor: string,
  from: string,
  to: string,
  reason?: string,
): Promise<EnvironmentChange> {
  checkName('environment', from);
  checkName('new_name', to);
  if (from === to) throw new ForgeError('validation_error', `"${from}" is renamed to itself: name another environment as new_name`);
  if (configured(ctx, from))
    throw new ForgeError(
      'conflict',
      `environment "${from}" is still in the platform config: rename it there first (and restart every replica with it), then move its deployments with "forge env rename ${from} ${to}"`,
    );
  if (!configured(ctx, to))
    throw new ForgeError(
      'conflict',
      `environment "${to}" is not in the platform config: add it there (renaming "${from}") and restart every replica first; configured: ${ctx.platform.environments.map((e) => e.name).join(', ')}`,
    );
  let pointers: { from: string; to: string }[] = [];
  return ctx.gitops.change(
    async (_base, tip, session) => {
      const old = await tip.list(`${from}/apps/`);
      pointers = old.map((p) => ({ from: p, to: `${to}${p.slice(from.length)}` }));
      const db = (session as Db | undefined) ?? ctx.db;
      const taken = new Set((await lifecycle.activeSlots(db, to)).map(slotKey));
      const existing = await tip.read(pointers.map((p) => p.to));
      const clash = pointers.filter((p, i) => existing[i] !== null || taken.has(slotOfPath(p.from)));
      const dbClash = (await lifecycle.activeSlots(db, from)).filter((s) => taken.has(slotKey(s)));
      if (clash.length || dbClash.length)
        throw new ForgeError(
          'conflict',
          `environment "${to}" already runs ${[...new Set([...clash.map((p) => slotOfPath(p.from)), ...dbClash.map(slotKey)])].join(', ')}: renaming "${from}" would overwrite it; retire what runs in "${from}" instead, or move the project first`,
        );
      const contents = old.length ? await tip.read(old) : [];
      await checkMovesAllowed(
        db,
        ctx.platform.environments.find((e) => e.name === to)!,
        from,
        old.map((path, i) => ({ path, text: contents[i] ?? null })),
      );
      if (!old.length) return null;
      const files = new Map<string, string | null>();
      pointers.forEach((p, i) => {
        files.set(p.from, null);
        files.set(p.to, renamedPointer(contents[i]!, to));
      });
      return {
        files,
        message: [
          `Rename environment ${from} to ${to}`,
          '',
          `Moves ${old.length} pointer file${old.length === 1 ? '' : 's'} from ${from}/apps/ to ${to}/apps/.`,
          ...(reason ? [`Reason: ${reason}`] : []),
          `Renamed-by: ${actor}`,
        ].join('\n'),
      };
    },
    (commit, _base, session) =>
      inTurn(ctx, session, async (tx) => {
        const slots = await lifecycle.settledSlots(tx, from);
        await lockSlots(tx, [from, to], slots);
        // A slot taken in `to` meanwhile (its pointer was not there when the commit was built): `to`'s deployment stays active.
        const taken = new Set((await lifecycle.activeSlots(tx, to)).map(slotKey));
        for (const s of await lifecycle.activeSlots(tx, from))
          if (taken.has(slotKey(s)))
            await lifecycle.supersede(
              tx,
              s.id,
              `environment "${from}" was renamed to "${to}", where another deployment was already active`,
            );
        const movedIds = await lifecycle.moveEnvironment(tx, from, to, commit);
        const moved = movedIds.length;
        const changed = !!commit || moved > 0;
        const result: EnvironmentChange = {
          action: 'rename',
          environment: from,
          new_name: to,
          changed,
          gitops_commit_sha: commit,
          pointers: commit ? pointers : [],
          deployments: moved,
        };
        if (changed)
          await appendAudit(tx, {
            actor,
            action: 'environment.renamed',
            subject: from,
            details: {
              new_name: to,
              gitops_commit_sha: commit,
              pointers: result.pointers,
              deployments: moved,
              moved_deployment_ids: movedIds,
              reason: reason ?? null,
            },
          });
        return result;
      }),
  );
}

/** The pointer `text` with its environment renamed; a pointer Forge cannot read moves unchanged. */
function renamedPointer(text: string, environment: string): string {
  try {
    return renderPointer({ ...parsePointer(text), environment });
  } catch {
    return text;
  }
}

/** Retires environment `env`: its pointers deleted in one commit, its active deployments `retired` (see the module comment). */
export async function retireEnvironment(ctx: LifecycleContext, actor: string, env: string, reason?: string): Promise<EnvironmentChange> {
  checkName('environment', env);
  if (configured(ctx, env))
    throw new ForgeError(
      'conflict',
      `environment "${env}" is still in the platform config: remove it there first (and restart every replica), then retire it with "forge env retire ${env}"`,
    );
  let deleted: string[] = [];
  return ctx.gitops.change(
    async (_base, tip) => {
      deleted = await tip.list(`${env}/apps/`);
      if (!deleted.length) return null;
      return {
        files: new Map(deleted.map((p) => [p, null])),
        message: [
          `Retire environment ${env}`,
          '',
          `Deletes ${deleted.length} pointer file${deleted.length === 1 ? '' : 's'} under ${env}/apps/.`,
          ...(reason ? [`Reason: ${reason}`] : []),
          `Retired-by: ${actor}`,
        ].join('\n'),
      };
    },
    (commit, _base, session) =>
      inTurn(ctx, session, async (tx) => {
        await lockSlots(tx, [env], await lifecycle.activeSlots(tx, env));
        const ids = await lifecycle.retireEnvironment(
          tx,
          env,
          `environment "${env}" was retired by ${actor}${reason ? `: ${reason}` : ''}; its pointer was deleted from the GitOps repository`,
        );
        const changed = !!commit || ids.length > 0;
        const result: EnvironmentChange = {
          action: 'retire',
          environment: env,
          new_name: null,
          changed,
          gitops_commit_sha: commit,
          pointers: commit ? deleted.map((p) => ({ from: p, to: null })) : [],
          deployments: ids.length,
        };
        if (changed)
          await appendAudit(tx, {
            actor,
            action: 'environment.retired',
            subject: env,
            details: {
              gitops_commit_sha: commit,
              pointers: result.pointers.map((p) => p.from),
              retired_deployments: ids,
              reason: reason ?? null,
            },
          });
        return result;
      }),
  );
}

/** Every pointer or active deployment of an environment the platform config no longer has (git fetched now). */
export async function listOrphans(ctx: LifecycleContext): Promise<OrphanedSlot[]> {
  const known = new Set(ctx.platform.environments.map((e) => e.name));
  const { disagreements } = await compareWithGit(ctx, (environment) => !known.has(environment));
  return disagreements
    .filter((d) => d.orphaned)
    .map((d) => ({
      environment: d.environment,
      repository: d.repository,
      project: d.project,
      path: d.path,
      in_git: d.git !== null,
      release_number: d.git && d.git !== 'invalid' ? d.git.releaseNumber : (d.database?.release_number ?? null),
      deployment_id: d.database?.deployment_id ?? null,
      problem: d.problem,
    }));
}
