/**
 * Registering a release (DESIGN.md §6): one unit of work that either records a complete,
 * pushed and verified release, or leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import type { CreateReleaseRequest, Release, Trigger } from '../contract/index.js';
import {
  type Alias,
  branchAlias,
  branchAliasPrefix,
  branchProblem,
  futureBranchAliasProblem,
  type TaggingStrategy,
  tagAlias,
  tagAliases,
  taggingStrategyFor,
  tagProblem,
} from '../core/aliases.js';
import type { Blob } from '../core/digest.js';
import { type ErrorCode, type FieldProblem, ForgeError, validationError } from '../core/errors.js';
import { canonicalId, imageRepository, ociReference, parseIdentity, type ReleaseIdentity } from '../core/identity.js';
import { mayReleaseRepository, type Principal } from '../core/permissions.js';
import type { PlatformConfig } from '../core/platform-config.js';
import { refNameProblem } from '../core/ref-names.js';
import { EMPTY_CONFIG } from '../core/release-image.js';
import { RELEASE_LIMITS } from '../core/release-limits.js';
import { parseRfc3339, rfc3339Problem } from '../core/rfc3339.js';
import { buildSignatureImage, signatureTag } from '../core/signature-image.js';
import type { ReleaseStore } from '../registry/index.js';
import { type SigningKey, signDigest } from '../signing/index.js';
import { appendAudit } from '../store/audit.js';
import type { Db } from '../store/db.js';
import * as releases from '../store/releases.js';
import type { SigningKeyState } from '../store/signing-keys.js';
import { packReleaseImage, redatedLayerDigest } from './release-packing.js';
import { asBlob, type PackedLayer } from './release-worker.js';
import { refuseInactiveKey } from './signing-keys.js';

export interface CreateReleaseResult {
  created: boolean;
  release: Release;
}

export interface CreateReleaseDeps {
  db: Db;
  /** `repositories.<owner/name>` of the platform config: a repository's own tagging strategy wins over the request's. */
  repositories?: PlatformConfig['repositories'];
  store: ReleaseStore;
  maxResources: number;
  /** Test-only fault injection: a pause between the push and the commit (FORGE_FAULT_PAUSE_AFTER_PUSH_MS). */
  pauseAfterPushMs?: number;
  /** The server's signing key: each new release image is signed and the signature pushed beside it. */
  signingKey?: SigningKey;
}

function checkRequest(
  req: CreateReleaseRequest,
  count: number,
  maxResources: number,
  strategyOf: (repository: string) => TaggingStrategy,
): ReleaseIdentity {
  const id = parseIdentity({ repository: req.repository, project: req.project, sha: req.commit?.sha });
  // One set of limits (src/core/release-limits.ts, issue #12 item 11): FORGE_MAX_RESOURCES may only lower it.
  const max = Math.min(maxResources, RELEASE_LIMITS.maxObjects);
  if (count > max) {
    throw new ForgeError('payload_too_large', `a release may hold at most ${max} Kubernetes objects, this one has ${count}`, {
      field: 'resources',
      limit: 'max_objects',
      max,
      actual: count,
    });
  }
  const problems: FieldProblem[] = [];
  const t = req.trigger;
  if (t.type === 'branch_push' && !t.branch) problems.push({ path: 'trigger.branch', message: 'a branch_push trigger needs the branch' });
  if (t.type === 'tag' && !t.tag) problems.push({ path: 'trigger.tag', message: 'a tag trigger needs the tag' });
  // Names git itself refuses (`a..b`, `@{x}`, newlines, …) are a 400, and an alias may not be a
  // full-length sha (issue #13 items 3–4, issue #12 item 9). Only tags that become aliases are
  // held to the sha rule: a monorepo's other projects' tags are not this release's business.
  const tagging = strategyOf(id.repository);
  const checkTag = (path: string, tag: string) => {
    const alias = refNameProblem(tag) ? tag : tagAlias(id.project, tag, tagging);
    const p = alias === undefined ? undefined : tagProblem(alias);
    if (p) problems.push({ path, message: p });
  };
  if (t.branch) {
    const p = branchProblem(t.branch);
    if (p) problems.push({ path: 'trigger.branch', message: p });
  }
  if (t.tag) checkTag('trigger.tag', t.tag);
  (req.commit.branches ?? []).forEach((b, i) => {
    const p = branchProblem(b);
    if (p) problems.push({ path: `commit.branches[${i}]`, message: p });
  });
  (req.tags ?? []).forEach((tag, i) => checkTag(`tags[${i}]`, tag));
  if (req.commit.committed_at !== undefined && !parseRfc3339(req.commit.committed_at)) {
    problems.push({ path: 'commit.committed_at', message: rfc3339Problem(req.commit.committed_at)! });
  }
  if (problems.length) throw validationError(problems);
  // The resources themselves (nesting, Kubernetes rules, sizes) are checked off the event loop, as they are packed.
  return id;
}

/**
 * The branches recorded for the commit (issue #13 item 1): the pipeline's list, sorted and each
 * once, for a tag or manual release; null (unknown) when it sent none. A branch push's branch
 * is its trigger's, so nothing is recorded for it.
 */
function commitBranches(req: CreateReleaseRequest): string[] | null {
  if (req.trigger.type === 'branch_push' || !req.commit.branches) return null;
  return [...new Set(req.commit.branches)].sort();
}

/**
 * Refuses (400, naming the field) a tag whose alias has the form of a branch alias a release not
 * yet registered would derive (core/aliases.ts futureBranchAliasProblem; review F3). `known`:
 * aliases the release already holds, never refused again.
 */
function refuseFutureBranchAliases(
  req: CreateReleaseRequest,
  project: string,
  strategy: TaggingStrategy,
  nextNumber: number,
  releasedBranches: string[],
  known: Set<string> = new Set(),
) {
  const branches = new Set(
    [...releasedBranches, ...(req.trigger.type === 'branch_push' ? [req.trigger.branch ?? ''] : [])].map((b) => b.replaceAll('/', '-')),
  );
  const problems: FieldProblem[] = [];
  const check = (path: string, tag: string) => {
    const alias = tagAlias(project, tag, strategy);
    const p = alias === undefined || known.has(alias) ? undefined : futureBranchAliasProblem(alias, nextNumber, branches);
    if (p) problems.push({ path, message: p });
  };
  (req.tags ?? []).forEach((tag, i) => check(`tags[${i}]`, tag));
  if (req.trigger.type === 'tag' && req.trigger.tag) check('trigger.tag', req.trigger.tag);
  if (problems.length) throw validationError(problems);
}

function triggerTags(req: CreateReleaseRequest): string[] {
  return [...(req.tags ?? []), ...(req.trigger.type === 'tag' && req.trigger.tag ? [req.trigger.tag] : [])];
}

async function refuseTakenAliases(tx: Db, id: ReleaseIdentity, aliases: Alias[], ownId?: string) {
  const owners = await releases.aliasOwners(
    tx,
    id.repository,
    id.project,
    aliases.map((a) => a.alias),
  );
  refuseOwned(
    id,
    owners.filter((o) => o.release_id !== ownId),
  );
}

/** 409 alias_conflict naming each alias another release holds. */
function refuseOwned(id: ReleaseIdentity, taken: { alias: string; release_number: number }[]) {
  if (taken.length) {
    throw new ForgeError(
      'alias_conflict',
      `alias ${taken.map((t) => `"${t.alias}" already names release ${t.release_number}`).join(', ')} of ${id.repository}/${id.project}; an alias never moves`,
      { conflicts: taken.map((t) => ({ alias: t.alias, release_number: t.release_number })) },
    );
  }
}

function sameTrigger(a: { type: string; branch?: string | null; tag?: string | null }, b: typeof a) {
  return a.type === b.type && (a.branch ?? null) === (b.branch ?? null) && (a.tag ?? null) === (b.tag ?? null);
}

/**
 * The resources of a registration as the packing thread read them (release-packing.ts
 * `prepareRegistration`): how many there were, and their packed layer or the refusal met.
 */
export interface PreparedResources {
  count: number;
  layer?: PackedLayer;
  refusal?: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Registers a release (spec: Artifact Coordination; DESIGN.md §4). `given` is the request with
 * `resources` already packed off the event loop into `prepared` (its own `resources` is not read).
 */
export async function createRelease(
  deps: CreateReleaseDeps,
  actor: Principal,
  given: CreateReleaseRequest,
  prepared: PreparedResources,
): Promise<CreateReleaseResult> {
  const strategyOf = (repository: string) => taggingStrategyFor(deps.repositories, repository, given.tagging_strategy);
  const id = checkRequest(given, prepared.count, deps.maxResources, strategyOf);
  if (!mayReleaseRepository(actor, id.repository)) {
    throw new ForgeError(
      'permission_denied',
      `${actor.subject} is a pipeline identity bound to ${actor.repositories!.join(', ')}; it may not release ${id.repository}`,
      { repository: id.repository, bound_to: actor.repositories },
    );
  }
  const req = given;
  const strategy = strategyOf(id.repository);
  const tags = tagAliases(id.project, triggerTags(req), strategy);
  const trigger = { type: req.trigger.type, branch: req.trigger.branch ?? null, tag: req.trigger.tag ?? null, triggered_by: actor.subject };

  // Validation, `kind: List` flattening, the limits, YAML, tar and digest ran in a worker thread
  // (release-packing.ts; issue #19 item 2), never on the event loop.
  if (prepared.refusal) throw new ForgeError(prepared.refusal.code as ErrorCode, prepared.refusal.message, prepared.refusal.details);
  if (!prepared.layer) throw new ForgeError('internal_error', 'the registration was not packed');
  const layer = { blob: asBlob(prepared.layer.blob), objects: prepared.layer.objects };
  const repository = imageRepository(id);
  const planOf = (db: Db) => planRegistration(db, id, req, strategy, tags, trigger, deps.signingKey?.keyId);

  // Registry pushes are split around the project's lock (issue #18). Before it, only what is
  // content-addressed and names nothing goes out: the blobs of the image built for the plan
  // read without the lock (config, resources and metadata layers). An unrecorded blob is
  // harmless: no tag, no manifest and no signature refers to it. The plan is read first, and
  // a registration it refuses (409, 400) or finds already registered pushes nothing. Under the
  // lock the plan is read again (authoritative: another request may have registered the commit
  // or taken the number meanwhile); only then are the tag `<sha>` moved to the image and its
  // signature pushed, in parallel, and the rows inserted in the same transaction. A request that
  // loses the race for a commit therefore never moves the tag nor signs its image, and a failure
  // anywhere leaves no row (DESIGN.md §6).
  const early = await planOf(deps.db).catch(() => undefined);
  let built: BuiltImage | undefined;
  if (early && !early.existing) {
    built = await buildImage(id, req, trigger, layer, early, deps.signingKey);
    await deps.store.pushBlobs(repository, built.blobs);
  }
  return deps.db.transaction(async (tx): Promise<CreateReleaseResult> => {
    await releases.lockProject(tx, id.repository, id.project);
    const now = await planOf(tx);
    if (now.existing) return addToExisting(tx, id, now.existing, tags, trigger, req, actor, layer.blob);
    // Another release of the project committed since the plan was read: the image says the new number.
    const image = built && samePlan(built.plan, now) ? built : await buildImage(id, req, trigger, layer, now, deps.signingKey);
    const pushed = await publishRelease(deps, id, image, now);
    if (deps.pauseAfterPushMs) await new Promise((r) => setTimeout(r, deps.pauseAfterPushMs));
    return insertRelease(tx, deps, id, req, actor, trigger, now, pushed);
  });
}

/** What a new release of a commit gets, as read from the database at one moment (planRegistration). */
interface NewReleasePlan {
  existing?: undefined;
  number: number;
  aliases: Alias[];
  /** The branch alias derived from the trigger, and whether another release holds it already. */
  derived?: string;
  derivedTaken: boolean;
  /** The row of the server's signing key as read with the plan (none without a key). */
  signingKey?: SigningKeyState;
}

/** The image of a plan, built (release-packing.ts) but not yet tagged nor signed. */
interface BuiltImage {
  plan: NewReleasePlan;
  manifest: Blob;
  /** Every blob the manifest refers to (config, resources and metadata layers). */
  blobs: Blob[];
  resourcesDigest: string;
  /** Its signature, made in memory with the server's key (nothing of it pushed yet). */
  signature?: { tag: string; key_id: string; manifest: Blob; blobs: Blob[] };
}

/** An image tagged `<sha>`, read back and signed, ready to be recorded. */
interface Pushed {
  digest: string;
  resourcesDigest: string;
  signature?: { digest: string; tag: string; key_id: string };
}

/**
 * What registering `req` comes to at this moment: the release of the same commit, or the
 * number and aliases a new release would get. Throws the 400 or 409 the aliases meet. Run once
 * without the lock (to build the image and push its blobs, or push nothing when it refuses) and
 * once under it (authoritative: decides the answer).
 */
async function planRegistration(
  db: Db,
  id: ReleaseIdentity,
  req: CreateReleaseRequest,
  strategy: TaggingStrategy,
  tags: string[],
  trigger: Omit<Trigger, 'triggered_at'>,
  signingKeyId: string | undefined,
): Promise<NewReleasePlan | { existing: Release }> {
  const branchPrefix = trigger.type === 'branch_push' && trigger.branch ? branchAliasPrefix(trigger.branch) : undefined;
  const state = await releases.registrationState(db, id.repository, id.project, id.sha, { tags, branchPrefix }, signingKeyId);
  const existing = state.existingId ? await releases.findById(db, state.existingId) : undefined;
  if (existing) {
    const known = new Set(existing.aliases.map((a) => a.alias));
    refuseFutureBranchAliases(req, id.project, strategy, state.next, state.branches, known);
    return { existing };
  }
  const number = state.next;
  refuseFutureBranchAliases(req, id.project, strategy, number + 1, state.branches);
  // Only aliases the user asserts (tags) can conflict. The branch alias is derived: when
  // another release already holds that name (a tag `main-3` recorded before such tags were
  // refused, review F3), this release goes without it rather than failing, and the audit
  // entry says so (issue #12 item 9).
  const derived = branchPrefix !== undefined ? branchAlias(trigger.branch!, number) : undefined;
  // the owners of the derived alias and the tags came with the state (a new release has no aliases of its own yet)
  const owners = state.owners;
  const derivedTaken = derived !== undefined && owners.some((o) => o.alias === derived);
  const aliases: Alias[] = [
    { alias: String(number), alias_type: 'numeric' },
    ...tags.map((alias): Alias => ({ alias, alias_type: 'tag' })),
    ...(derived !== undefined && !derivedTaken && !tags.includes(derived) ? [{ alias: derived, alias_type: 'branch' } as Alias] : []),
  ];
  const asserted = new Set(aliases.filter((a) => a.alias_type !== 'numeric').map((a) => a.alias));
  refuseOwned(
    id,
    owners.filter((o) => asserted.has(o.alias)),
  );
  return { number, aliases, derived, derivedTaken, signingKey: state.signingKey };
}

function samePlan(a: NewReleasePlan, b: NewReleasePlan): boolean {
  return a.number === b.number && a.derivedTaken === b.derivedTaken && JSON.stringify(a.aliases) === JSON.stringify(b.aliases);
}

/**
 * Builds the image of `plan` (release-packing.ts) and, with a key, signs its manifest's digest in
 * memory (the signature needs only the digest): nothing is pushed.
 */
async function buildImage(
  id: ReleaseIdentity,
  req: CreateReleaseRequest,
  trigger: Omit<Trigger, 'triggered_at'>,
  layer: { blob: Blob; objects: PackedLayer['objects'] },
  plan: NewReleasePlan,
  signingKey: SigningKey | undefined,
): Promise<BuiltImage> {
  const image = await packReleaseImage(
    {
      repository: id.repository,
      project: id.project,
      sha: id.sha,
      releaseNumber: plan.number,
      aliases: plan.aliases,
      triggers: [{ type: trigger.type, branch: trigger.branch, tag: trigger.tag }],
      source: {
        author: req.commit.author ?? null,
        message: req.commit.message ?? null,
        committed_at: req.commit.committed_at ?? null,
        url: req.commit.url ?? null,
      },
      artifacts: req.artifacts ?? [],
    },
    layer,
  );
  return {
    plan,
    manifest: image.manifest,
    blobs: [EMPTY_CONFIG, image.resources, image.metadata],
    resourcesDigest: image.resources.digest,
    signature: signingKey
      ? {
          tag: signatureTag(image.manifest.digest),
          key_id: signingKey.keyId,
          ...buildSignatureImage(await signDigest(signingKey, canonicalId(id), image.manifest.digest), image.manifest),
        }
      : undefined,
  };
}

/**
 * Pushes `image` under the tag `<sha>` (its blobs first, those not held yet; read back by
 * digest) and its signature at once: the signature needs only the manifest's digest (a registry
 * accepts a signature whose subject has not arrived yet, OCI 1.1). Called only under the
 * project's lock, with the plan confirmed there, in the transaction that records the release:
 * a request that lost the race for its commit never gets here. Both pushes are waited for even
 * when one fails, so nothing of this attempt is still on its way when the transaction ends.
 * Throws 503 registry_unavailable, or signing_key_retired before anything is pushed.
 */
async function publishRelease(deps: CreateReleaseDeps, id: ReleaseIdentity, image: BuiltImage, plan: NewReleasePlan): Promise<Pushed> {
  // A key retired while this replica runs signs nothing more (review F4): its row, read with the
  // plan under the lock, is checked before each signature is pushed (one made in memory before
  // the lock goes no further than the request).
  if (image.signature && deps.signingKey) refuseInactiveKey(deps.signingKey, plan.signingKey);
  const repository = imageRepository(id);
  const [pushedImage, signed] = await Promise.allSettled([
    deps.store.push(repository, id.sha, image.blobs, image.manifest),
    image.signature ? deps.store.push(repository, image.signature.tag, image.signature.blobs, image.signature.manifest) : undefined,
  ]);
  if (pushedImage.status === 'rejected') throw pushedImage.reason;
  if (signed.status === 'rejected') throw signed.reason;
  const signature =
    image.signature && signed.value ? { digest: signed.value, tag: image.signature.tag, key_id: image.signature.key_id } : undefined;
  return { digest: pushedImage.value, resourcesDigest: image.resourcesDigest, signature };
}

/** The rows of a new release whose image is pushed and verified: release, signature, aliases, trigger and the audit entry, in `tx`. */
async function insertRelease(
  tx: Db,
  deps: CreateReleaseDeps,
  id: ReleaseIdentity,
  req: CreateReleaseRequest,
  actor: Principal,
  trigger: Omit<Trigger, 'triggered_at'>,
  plan: NewReleasePlan,
  pushed: Pushed,
): Promise<CreateReleaseResult> {
  const releaseId = randomUUID();
  const artifacts = req.artifacts ?? [];
  // the release, its signature, aliases and trigger in one statement
  const release = await releases.insertRelease(
    tx,
    {
      id: releaseId,
      repository: id.repository,
      project: id.project,
      commit_sha: id.sha,
      release_number: plan.number,
      oci_uri: ociReference(deps.store.registry, id),
      oci_digest: pushed.digest,
      resources_digest: pushed.resourcesDigest,
      created_by: actor.subject,
      source: { ...req.commit, branches: commitBranches(req) },
      pipeline_run_id: req.pipeline_run_id,
      artifacts,
    },
    { signature: pushed.signature, aliases: plan.aliases, trigger },
  );
  await appendAudit(tx, {
    actor: actor.subject,
    action: 'release.created',
    subject: canonicalId(id),
    details: {
      release_number: plan.number,
      oci_digest: pushed.digest,
      trigger: req.trigger,
      commit_branches: commitBranches(req),
      aliases: plan.aliases.map((a) => a.alias),
      ...(plan.derivedTaken ? { skipped_aliases: [plan.derived] } : {}),
      pipeline_run_id: req.pipeline_run_id ?? null,
    },
  });
  return { created: true, release };
}

/** A later pipeline run for a released commit: new tags and triggers are added, the content never changes. */
async function addToExisting(
  tx: Db,
  id: ReleaseIdentity,
  existing: Release,
  tags: string[],
  trigger: Omit<Trigger, 'triggered_at'>,
  req: CreateReleaseRequest,
  actor: Principal,
  layer: Blob,
): Promise<CreateReleaseResult> {
  const known = new Set(existing.aliases.map((a) => a.alias));
  const newAliases = tags.filter((t) => !known.has(t)).map((alias): Alias => ({ alias, alias_type: 'tag' }));
  await refuseTakenAliases(tx, id, newAliases, existing.id);
  await releases.insertAliases(tx, existing, newAliases);
  const triggerIsNew = !existing.triggers.some((t) => sameTrigger(t, trigger));
  if (triggerIsNew) await releases.insertTrigger(tx, existing.id, trigger);
  // A later run's view of where the commit is replaces the earlier one (it may have been merged since).
  const branches = commitBranches(req);
  const branchesChanged = branches !== null && JSON.stringify(branches) !== JSON.stringify(existing.source.branches ?? null);
  if (branchesChanged) await releases.setCommitBranches(tx, existing.id, branches);
  if (newAliases.length || triggerIsNew || branchesChanged) {
    await appendAudit(tx, {
      actor: actor.subject,
      action: 'release.updated',
      subject: canonicalId(id),
      details: {
        added_aliases: newAliases.map((a) => a.alias),
        added_trigger: triggerIsNew ? req.trigger : null,
        ...(branchesChanged ? { commit_branches: branches } : {}),
      },
    });
  }
  const release = (await releases.findById(tx, existing.id))!;
  return {
    created: false,
    release: {
      ...release,
      // the layer packed for this request, unless the stored release has another commit time (its files' mtime)
      content_matches:
        ((existing.source.committed_at ?? null) === (req.commit.committed_at ?? null)
          ? layer.digest
          : await redatedLayerDigest(layer, existing.source.committed_at ?? null)) === existing.resources_digest,
    },
  };
}
