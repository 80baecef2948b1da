/**
 * Release trains (issue #17; spec "Future Enhancements — Release Composition"): a named,
 * immutable set of `(repository, project, release)` members deployed together in one GitOps
 * commit. Pure: the checks of a train's request, the `forge train create` member arguments, the
 * commit message of a train deployment and the comparison of two trains' member sets. I/O is in
 * src/services/train*.ts and src/store/trains.ts.
 */

import { messageList, messageValue, type ReleaseLabel, releaseLabel } from './commit-message.js';
import { type FieldProblem, validationError } from './errors.js';
import { projectProblem, repositoryProblem } from './identity.js';

/** `trains.max_members` in the platform config when it does not say (issue #17). */
export const DEFAULT_TRAIN_MAX_MEMBERS = 200;

/** A train's name: lower-case letters, digits, ".", "_" and "-", 1-100 characters, starting alphanumeric. */
const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** A train name's problem, or undefined when it is one. A uuid is refused (a train is read by name or id). */
export function trainNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'expected a train name (a string)';
  if (!NAME.test(name))
    return `"${name}" is not a train name (lower-case letters, digits, ".", "_" and "-", 1-100 characters, starting with a letter or digit)`;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(name))
    return `"${name}" looks like an id; a train name must not (trains are read by name or by id)`;
  return undefined;
}

export interface TrainMemberRequest {
  /** `owner/name`, lower-cased. */
  repository: string;
  project: string;
  /** A release reference (tag, number or sha), resolved once when the train is created. */
  release: string;
}

/**
 * Checks a train's request (`POST /trains`): its name, each member's repository, project and
 * release reference, no project named twice, at most `maxMembers` members. Throws 400
 * `validation_error` naming every problem by its field (`members[3].project`); answers the
 * members with repositories lower-cased.
 */
export function checkTrainRequest(body: { name?: unknown; members?: unknown }, maxMembers: number): TrainMemberRequest[] {
  const problems: FieldProblem[] = [];
  const nameProblem = trainNameProblem(body.name);
  if (nameProblem) problems.push({ path: 'name', message: nameProblem });
  if (!Array.isArray(body.members) || body.members.length === 0) {
    problems.push({ path: 'members', message: 'expected a list of at least one {repository, project, release}' });
    throw validationError(problems);
  }
  if (body.members.length > maxMembers) {
    problems.push({
      path: `members[${maxMembers}]`,
      message: `a train may have at most ${maxMembers} members (trains.max_members in the platform config); this one has ${body.members.length}`,
    });
    throw validationError(problems);
  }
  const seen = new Map<string, number>();
  const out: TrainMemberRequest[] = [];
  body.members.forEach((m: unknown, i) => {
    const at = `members[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      problems.push({ path: at, message: 'expected an object {repository, project, release}' });
      return;
    }
    const o = m as Record<string, unknown>;
    const rp = repositoryProblem(o.repository);
    if (rp) problems.push({ path: `${at}.repository`, message: rp });
    const pp = projectProblem(o.project);
    if (pp) problems.push({ path: `${at}.project`, message: pp });
    if (typeof o.release !== 'string' || !o.release || o.release.length > 256)
      problems.push({ path: `${at}.release`, message: 'expected a release reference (tag, number or sha)' });
    if (rp || pp) return;
    const repository = (o.repository as string).toLowerCase();
    const key = `${repository}/${o.project}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ path: at, message: `${key} is already members[${first}]; a train names each project once` });
      return;
    }
    seen.set(key, i);
    out.push({ repository, project: o.project as string, release: o.release as string });
  });
  if (problems.length) throw validationError(problems);
  return out;
}

/**
 * One `forge train create` member argument: `PROJECT=REF` (the repository is the current one's,
 * `defaultRepository`) or `OWNER/NAME/PROJECT=REF`. Throws an Error saying what was expected.
 */
export function parseMemberArgument(arg: string, defaultRepository: string | undefined): TrainMemberRequest {
  const eq = arg.indexOf('=');
  if (eq <= 0 || eq === arg.length - 1)
    throw new Error(`"${arg}" is not a member: expected PROJECT=RELEASE or OWNER/NAME/PROJECT=RELEASE (e.g. api=v1.2.0)`);
  const target = arg.slice(0, eq);
  const release = arg.slice(eq + 1);
  const parts = target.split('/');
  if (parts.length === 1) {
    if (!defaultRepository)
      throw new Error(`"${arg}" names no repository and none was found here: write OWNER/NAME/${target}=${release}, or pass --repository`);
    return { repository: defaultRepository.toLowerCase(), project: target, release };
  }
  if (parts.length === 3) return { repository: `${parts[0]}/${parts[1]}`.toLowerCase(), project: parts[2], release };
  throw new Error(`"${arg}" is not a member: expected PROJECT=RELEASE or OWNER/NAME/PROJECT=RELEASE`);
}

/** One member of a train deployment as its commit message names it. */
export interface TrainMessageMember {
  repository: string;
  project: string;
  release: ReleaseLabel;
  previous: ReleaseLabel | null;
  deploymentId: string;
  /** Who approved the member's release for the environment (none: the policy needs no approval). */
  approvedBy?: string[];
}

/**
 * The message of a train deployment's one commit: a summary line, then one line per member with
 * its release and the release it replaces, then who and the train deployment's id. Every value
 * escaped as commit-message.ts escapes it (a value never adds a line).
 */
export function trainCommitMessage(m: {
  kind: 'deploy' | 'rollback';
  train: string;
  trainDeploymentId: string;
  environment: string;
  actor: string;
  reason?: string | null;
  members: TrainMessageMember[];
}): string {
  const head =
    m.kind === 'rollback'
      ? `Rollback train ${messageValue(m.train)} in ${m.environment} (${m.members.length} project${m.members.length === 1 ? '' : 's'})`
      : `Deploy train ${messageValue(m.train)} to ${m.environment} (${m.members.length} project${m.members.length === 1 ? '' : 's'})`;
  return [
    head,
    '',
    ...m.members.map(
      (x) =>
        `- ${messageValue(x.repository)}/${messageValue(x.project)}: release ${releaseLabel(x.release)} (previous: ${x.previous ? releaseLabel(x.previous) : 'none'}; ${x.approvedBy?.length ? `approved by: ${messageList(x.approvedBy)}; ` : ''}deployment ${messageValue(x.deploymentId)})`,
    ),
    '',
    `Train: ${messageValue(m.train)}`,
    `Train deployment: ${messageValue(m.trainDeploymentId)}`,
    `${m.kind === 'rollback' ? 'Rolled back by' : 'Deployed by'}: ${messageValue(m.actor)}`,
    ...(m.reason ? [`Reason: ${messageValue(m.reason)}`] : []),
    '',
  ].join('\n');
}

export interface MemberRef {
  repository: string;
  project: string;
  release_id: string;
}

export type MemberChange = 'added' | 'removed' | 'changed' | 'unchanged';

/** How each project of two trains differs: in `to` only (added), `from` only (removed), another release (changed) or the same; sorted by project. */
export function compareMembers<T extends MemberRef>(
  from: T[],
  to: T[],
): { repository: string; project: string; from: T | null; to: T | null; change: MemberChange }[] {
  const key = (m: MemberRef) => `${m.repository}/${m.project}`;
  const a = new Map(from.map((m) => [key(m), m]));
  const b = new Map(to.map((m) => [key(m), m]));
  return [...new Set([...a.keys(), ...b.keys()])].sort().map((k) => {
    const x = a.get(k) ?? null;
    const y = b.get(k) ?? null;
    const change: MemberChange = !x ? 'added' : !y ? 'removed' : x.release_id === y.release_id ? 'unchanged' : 'changed';
    const [owner, name, project] = k.split('/');
    return { repository: `${owner}/${name}`, project, from: x, to: y, change };
  });
}
