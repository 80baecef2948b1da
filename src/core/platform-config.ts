/**
 * The platform configuration (DESIGN.md §7): environments and their promotion policies, read
 * from one YAML file and validated at start. Every problem names its line and column, what was
 * found and what was expected. Without a file the spec's three environments apply.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { neverMatchesProblem } from './branch-patterns.js';
import { parseDuration } from './duration.js';
import { FREEZE_ACTIONS, type FreezeAction, type FreezeWindow, firstFiringDay, isTimeZone, parseCron } from './freeze-windows.js';
import { projectProblem, repositoryProblem } from './identity.js';
import { parseRfc3339, rfc3339Problem } from './rfc3339.js';

export const TRIGGER_TYPES = ['branch_push', 'tag', 'manual'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export interface ApprovalRule {
  /** Distinct approvers needed. */
  required: number;
  /** How long an approval stays active, milliseconds. */
  expiresAfterMs: number;
  allowSelfApproval: boolean;
}

export interface PromotionPolicy {
  allowedTriggers: TriggerType[];
  /** Globs: `*` any run of characters including `/`, `?` one character. */
  allowedBranches: string[];
  autoDeploy: boolean;
  requiresApproval: boolean;
  approvals: ApprovalRule;
  /** Verification gates (issue 15, `requires`): the release must have been Healthy in each environment, continuously, this long. */
  requires?: VerificationRequirement[];
  /** Automatic rollback (issue 15, `auto_rollback`); absent: never. */
  autoRollback?: AutoRollbackRule;
}

/** `requires: [{ environment: staging, healthy_for: 1h }]` */
export interface VerificationRequirement {
  environment: string;
  /** Milliseconds, > 0. */
  healthyForMs: number;
}

export const AUTO_ROLLBACK_CAUSES = ['degraded', 'sync_failed'] as const;
export type AutoRollbackCause = (typeof AUTO_ROLLBACK_CAUSES)[number];

/** `auto_rollback: { on: [degraded, sync_failed], within: 15m }` */
export interface AutoRollbackRule {
  on: AutoRollbackCause[];
  /** How long after its pointer commit landed a deployment is still rolled back automatically, ms. */
  withinMs: number;
}

export interface Environment {
  name: string;
  policy: PromotionPolicy;
  /** When deployments are refused (issue #16); absent or empty: never. */
  freezeWindows?: FreezeWindow[];
  /** How long a break-glass grant lets its release through a freeze, milliseconds (default 4 h). */
  breakGlassExpiresAfterMs?: number;
}

/** Issue #16: a break-glass grant lasts this long unless the environment says otherwise. */
export const DEFAULT_BREAK_GLASS_EXPIRES_AFTER_MS = 4 * 3600_000;
/** The longest `break_glass.expires_after` (a day): a grant is for an emergency, not a standing exemption. */
export const MAX_BREAK_GLASS_EXPIRES_AFTER_MS = 24 * 3600_000;
/** The longest freeze window, recurring `duration` or one-off `to - from` (366 days): a longer freeze is a policy, not a window. */
export const MAX_FREEZE_WINDOW_MS = 366 * 86_400_000;
/** The shortest freeze window (a minute: the cron's step). */
export const MIN_FREEZE_WINDOW_MS = 60_000;

export interface PlatformConfig {
  /** In the order the file lists them. */
  environments: Environment[];
  /**
   * Per source repository (`repositories.<owner/name>`, issue #13 item 7): its own tagging
   * strategy, which wins over the one a pipeline's request names. Absent: the request's.
   */
  repositories?: Record<string, { taggingStrategy?: 'monorepo' | 'tag-all' }>;
  /** Release trains (issue #17, `trains:`): at most `maxMembers` members per train (`max_members`, default 200). Absent: the defaults. */
  trains?: { maxMembers: number };
}

export const DEFAULT_APPROVAL_RULE: ApprovalRule = { required: 1, expiresAfterMs: 24 * 3600_000, allowSelfApproval: false };

/** Spec §Policies & Approvals: the environments a server without a config file offers. */
export const DEFAULT_PLATFORM_CONFIG: PlatformConfig = {
  environments: [
    {
      name: 'dev',
      policy: {
        allowedTriggers: ['branch_push', 'tag', 'manual'],
        allowedBranches: ['*'],
        autoDeploy: true,
        requiresApproval: false,
        approvals: DEFAULT_APPROVAL_RULE,
      },
    },
    {
      name: 'staging',
      policy: {
        allowedTriggers: ['branch_push', 'tag', 'manual'],
        allowedBranches: ['main', 'release/*'],
        autoDeploy: false,
        requiresApproval: false,
        approvals: DEFAULT_APPROVAL_RULE,
      },
    },
    {
      name: 'production',
      policy: {
        allowedTriggers: ['tag', 'manual'],
        allowedBranches: ['main'],
        autoDeploy: false,
        requiresApproval: true,
        approvals: DEFAULT_APPROVAL_RULE,
      },
    },
  ],
};

export class PlatformConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: { line: number; col: number; message: string }[],
  ) {
    super(`invalid platform config ${file}:\n${problems.map((p) => `  ${file}:${p.line}:${p.col}: ${p.message}`).join('\n')}`);
    this.name = 'PlatformConfigError';
  }
}

export function findEnvironment(config: PlatformConfig, name: string): Environment | undefined {
  return config.environments.find((e) => e.name === name);
}

/**
 * Why a branch glob is unusable, or undefined. A glob is a git branch name in which `*` and
 * `?` are wildcards, so it obeys git's ref-name rules (git check-ref-format).
 */
export function branchPatternProblem(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'is empty';
  if (/[\s\x00-\x1f\x7f~^:\\[]/.test(pattern)) return 'contains a character git forbids in branch names (space, control, ~ ^ : \\ [)';
  if (pattern.includes('..') || pattern.includes('@{') || pattern.includes('//'))
    return 'contains "..", "@{" or "//", which no branch name can hold';
  if (pattern.startsWith('/') || pattern.endsWith('/') || pattern.endsWith('.') || pattern.endsWith('.lock'))
    return 'starts or ends with "/", or ends with "." or ".lock"';
  return neverMatchesProblem('glob', pattern);
}

const FREEZE_KEYS = ['name', 'schedule', 'duration', 'timezone', 'from', 'to', 'applies_to'];
const POLICY_KEYS = ['allowed_triggers', 'allowed_branches', 'auto_deploy', 'requires_approval', 'approvals', 'requires', 'auto_rollback'];
const APPROVAL_KEYS = ['required', 'expires_after', 'allow_self_approval'];

/** Far beyond any real set of environments: a larger file is a mistake or an attack. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** Parses and validates the platform YAML; throws PlatformConfigError listing every problem with its line. */
export function parsePlatformConfig(text: string, file = 'forge.yaml'): PlatformConfig {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new PlatformConfigError(file, [
      { line: 1, col: 1, message: `the file is ${text.length} characters; a platform config may hold at most ${MAX_CONFIG_BYTES}` },
    ]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: { line: number; col: number; message: string }[] = [];
  const at = (node: Node | null | undefined, offset = 0) => lines.linePos(node?.range?.[0] ?? offset);
  const report = (node: Node | null | undefined, message: string) => problems.push({ ...at(node), message });
  for (const e of doc.errors) problems.push({ ...lines.linePos(e.pos[0]), message: e.message.split('\n')[0] });
  if (problems.length) throw new PlatformConfigError(file, problems);

  /** Each key of a mapping, rejecting keys not in `known`. */
  function entries(node: Node | null | undefined, where: string, known?: string[]): [string, Node | null, Node][] {
    if (!isMap(node)) {
      report(node, `${where} must be a mapping`);
      return [];
    }
    const out: [string, Node | null, Node][] = [];
    for (const pair of node.items) {
      const key = pair.key as Node;
      const name = isScalar(key) ? String(key.value) : '';
      if (known && !known.includes(name)) {
        report(key, `unknown key "${name}" in ${where}; expected one of: ${known.join(', ')}`);
        continue;
      }
      out.push([name, pair.value as Node | null, key]);
    }
    return out;
  }
  function bool(node: Node | null, where: string): boolean {
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    report(node, `${where} must be true or false`);
    return false;
  }
  function strings(node: Node | null, where: string): { value: string; node: Node }[] {
    if (!isSeq(node)) {
      report(node, `${where} must be a list`);
      return [];
    }
    return node.items.flatMap((item) => {
      if (isScalar(item) && typeof item.value === 'string') return [{ value: item.value, node: item as Node }];
      report(item as Node, `${where} entries must be strings`);
      return [];
    });
  }

  /** `freeze_windows`: a list of recurring ({name, schedule, duration, timezone}) or one-off ({name, from, to}) windows. */
  function freezeWindowsOf(node: Node | null, where: string): FreezeWindow[] {
    if (!isSeq(node)) {
      report(node, `${where} must be a list of windows`);
      return [];
    }
    const out: FreezeWindow[] = [];
    node.items.forEach((item, i) => {
      const at = `${where}[${i}]`;
      const fields = new Map(entries(item as Node, at, FREEZE_KEYS).map(([k, v, key]) => [k, { v, key }]));
      if (!isMap(item)) return;
      const text = (k: string): string | undefined => {
        const f = fields.get(k);
        if (!f) return undefined;
        if (isScalar(f.v) && (typeof f.v.value === 'string' || typeof f.v.value === 'number')) return String(f.v.value);
        report(f.v ?? f.key, `${at}.${k} must be a string`);
        return undefined;
      };
      const name = text('name');
      if (!name) report(item as Node, `${at} has no name; every freeze window needs one (it is shown in refusals)`);
      else if (out.some((w) => w.name === name)) report(fields.get('name')!.v, `${at}: a window named "${name}" is already listed`);
      let appliesTo: FreezeAction[] = [...FREEZE_ACTIONS];
      const applies = fields.get('applies_to');
      if (applies) {
        appliesTo = [];
        const listed = strings(applies.v, `${at}.applies_to`);
        for (const a of listed) {
          if ((FREEZE_ACTIONS as readonly string[]).includes(a.value)) appliesTo.push(a.value as FreezeAction);
          else report(a.node, `unknown "${a.value}" in ${at}.applies_to; expected any of: ${FREEZE_ACTIONS.join(', ')}`);
        }
        if (isSeq(applies.v) && applies.v.items.length === 0)
          report(
            applies.v,
            `${at}.applies_to is [], so the window would freeze nothing; expected at least one of ${FREEZE_ACTIONS.join(', ')} (omit applies_to for all three)`,
          );
      }
      const schedule = text('schedule');
      const from = text('from');
      const to = text('to');
      if (schedule !== undefined) {
        if (from !== undefined || to !== undefined)
          report(item as Node, `${at} has both a schedule and from/to; a window is either recurring or one-off`);
        let cron: ReturnType<typeof parseCron> | undefined;
        try {
          cron = parseCron(schedule);
        } catch (err) {
          report(fields.get('schedule')!.v, `${at}.schedule: ${(err as Error).message}`);
        }
        if (cron && firstFiringDay(cron) === undefined) {
          report(
            fields.get('schedule')!.v,
            `${at}.schedule "${schedule}" never fires: no month it names has that day of the month (such as 30 February or 31 April); expected a schedule that fires, such as "0 18 * * 5"`,
          );
          cron = undefined;
        }
        const duration = text('duration');
        const durationMs = duration === undefined ? undefined : parseDuration(duration);
        const durationProblem =
          duration === undefined
            ? `${at} has no duration`
            : durationMs === undefined
              ? `${at}.duration "${duration}" is not a duration`
              : durationMs < MIN_FREEZE_WINDOW_MS
                ? `${at}.duration "${duration}" is shorter than a minute`
                : durationMs > MAX_FREEZE_WINDOW_MS
                  ? `${at}.duration "${duration}" is longer than the longest freeze window, 366d`
                  : undefined;
        if (durationProblem)
          report(
            fields.get('duration')?.v ?? (item as Node),
            `${durationProblem}; expected a duration such as 2h, 90m or 3d, from 1m to 366d`,
          );
        const timezone = text('timezone');
        if (timezone === undefined) report(item as Node, `${at} has no timezone; expected an IANA name such as Europe/Berlin or UTC`);
        else if (!isTimeZone(timezone))
          report(
            fields.get('timezone')!.v,
            `${at}.timezone "${timezone}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`,
          );
        if (name && cron && durationMs && !durationProblem && timezone && isTimeZone(timezone))
          out.push({ name, kind: 'recurring', schedule: cron, durationMs, timezone, appliesTo });
      } else if (from !== undefined || to !== undefined) {
        for (const k of ['duration', 'timezone'])
          if (fields.has(k)) report(fields.get(k)!.key, `${at}.${k} belongs to a recurring window (with a schedule), not to a from/to one`);
        const start = from === undefined ? undefined : parseRfc3339(from);
        const end = to === undefined ? undefined : parseRfc3339(to);
        for (const [k, value, parsed] of [
          ['from', from, start],
          ['to', to, end],
        ] as const) {
          if (parsed) continue;
          if (value === undefined)
            report(item as Node, `${at} has no ${k}; expected ${k}: an RFC 3339 time such as 2026-12-24T00:00:00+01:00`);
          else report(fields.get(k)!.v, `${at}.${k}: ${rfc3339Problem(value)}`);
        }
        if (start && end && end <= start)
          report(fields.get('to')!.v, `${at}.to "${to}" is not after from "${from}"; expected a to later than from`);
        else if (start && end && end.getTime() - start.getTime() > MAX_FREEZE_WINDOW_MS)
          report(
            fields.get('to')!.v,
            `${at}.to "${to}" is ${Math.ceil((end.getTime() - start.getTime()) / 86_400_000)} days after from "${from}"; a freeze window may last at most 366 days (split it, or change the promotion policy)`,
          );
        else if (name && start && end) out.push({ name, kind: 'once', from: start, to: end, appliesTo });
      } else report(item as Node, `${at} needs either schedule, duration and timezone, or from and to`);
    });
    return out;
  }

  const environments: Environment[] = [];
  /** `requires[].environment` references, checked once every environment is known. */
  const gateRefs: { node: Node; environment: string; where: string }[] = [];
  const root = doc.contents as Node | null;
  if (root === null)
    throw new PlatformConfigError(file, [{ line: 1, col: 1, message: 'the file is empty; expected a mapping with "environments"' }]);
  const top = entries(root, 'the top level', ['environments', 'repositories', 'trains']);
  let trains: PlatformConfig['trains'];
  const trainsNode = top.find(([k]) => k === 'trains');
  for (const [k, v] of trainsNode ? entries(trainsNode[1], 'trains', ['max_members']) : []) {
    if (k !== 'max_members') continue;
    if (isScalar(v) && typeof v.value === 'number' && Number.isInteger(v.value) && v.value >= 1 && v.value <= 10_000)
      trains = { maxMembers: v.value };
    else report(v, 'trains.max_members must be a whole number from 1 to 10000');
  }
  const repositories: NonNullable<PlatformConfig['repositories']> = {};
  const repoNode = top.find(([k]) => k === 'repositories');
  for (const [name, value, key] of repoNode ? entries(repoNode[1], 'repositories') : []) {
    const where = `repositories.${name}`;
    const problem = repositoryProblem(name);
    if (problem || name !== name.toLowerCase()) report(key, `repository ${problem ?? `"${name}" must be lower-case`}; expected owner/name`);
    const repo: { taggingStrategy?: 'monorepo' | 'tag-all' } = {};
    for (const [k, v] of entries(value, where, ['tagging_strategy'])) {
      if (k === 'tagging_strategy') {
        if (isScalar(v) && (v.value === 'monorepo' || v.value === 'tag-all')) repo.taggingStrategy = v.value;
        else report(v, `${where}.tagging_strategy must be monorepo or tag-all`);
      }
    }
    repositories[name] = repo;
  }
  const envNode = top.find(([k]) => k === 'environments');
  if (!envNode && isMap(root)) report(root, 'missing "environments": expected a mapping of environment names to { promotion_policy: ... }');
  for (const [name, value, key] of envNode ? entries(envNode[1], 'environments') : []) {
    const nameProblem = projectProblem(name);
    if (nameProblem) report(key, `environment name ${nameProblem.replace(/^"[^"]*" is not/, `"${name}" is not`)}`);
    const policy: PromotionPolicy = {
      allowedTriggers: [],
      allowedBranches: [],
      autoDeploy: false,
      requiresApproval: false,
      approvals: DEFAULT_APPROVAL_RULE,
    };
    const env = entries(value, `environment "${name}"`, ['promotion_policy', 'freeze_windows', 'break_glass']);
    const policyNode = env.find(([k]) => k === 'promotion_policy');
    if (!policyNode && isMap(value)) report(key, `environment "${name}" has no promotion_policy`);
    const where = `environments.${name}.promotion_policy`;
    let sawTriggers = false;
    let sawBranches = false;
    for (const [k, v] of policyNode ? entries(policyNode[1], where, POLICY_KEYS) : []) {
      if (k === 'allowed_triggers') {
        sawTriggers = true;
        for (const t of strings(v, `${where}.allowed_triggers`)) {
          if ((TRIGGER_TYPES as readonly string[]).includes(t.value)) policy.allowedTriggers.push(t.value as TriggerType);
          else report(t.node, `unknown trigger "${t.value}" in ${where}.allowed_triggers; expected one of: ${TRIGGER_TYPES.join(', ')}`);
        }
      } else if (k === 'allowed_branches') {
        sawBranches = true;
        for (const b of strings(v, `${where}.allowed_branches`)) {
          const problem = branchPatternProblem(b.value);
          if (problem)
            report(
              b.node,
              `bad branch pattern "${b.value}" in ${where}.allowed_branches: it ${problem}; expected a branch name where * matches any characters and ? one`,
            );
          else policy.allowedBranches.push(b.value);
        }
      } else if (k === 'auto_deploy') policy.autoDeploy = bool(v, `${where}.auto_deploy`);
      else if (k === 'requires_approval') policy.requiresApproval = bool(v, `${where}.requires_approval`);
      else if (k === 'approvals') {
        const rule = { ...DEFAULT_APPROVAL_RULE };
        for (const [ak, av] of entries(v, `${where}.approvals`, APPROVAL_KEYS)) {
          if (ak === 'required') {
            if (isScalar(av) && Number.isInteger(av.value) && (av.value as number) >= 1) rule.required = av.value as number;
            else report(av, `${where}.approvals.required must be a whole number of at least 1`);
          } else if (ak === 'expires_after') {
            const ms = isScalar(av) ? parseDuration(String(av.value)) : undefined;
            if (ms === undefined || ms === 0)
              report(av, `${where}.approvals.expires_after must be a duration such as 24h, 90m, 7d or 1h30m`);
            else rule.expiresAfterMs = ms;
          } else rule.allowSelfApproval = bool(av, `${where}.approvals.allow_self_approval`);
        }
        policy.approvals = rule;
      } else if (k === 'requires') {
        policy.requires = [];
        if (!isSeq(v)) report(v, `${where}.requires must be a list of { environment, healthy_for }`);
        else
          v.items.forEach((item, i) => {
            let environment: string | undefined;
            let healthyForMs: number | undefined;
            for (const [rk, rv] of entries(item as Node, `${where}.requires[${i}]`, ['environment', 'healthy_for'])) {
              if (rk === 'environment') {
                if (isScalar(rv) && typeof rv.value === 'string') {
                  environment = rv.value;
                  gateRefs.push({ node: rv, environment, where: `${where}.requires[${i}].environment` });
                } else report(rv, `${where}.requires[${i}].environment must be an environment name`);
              } else {
                const ms = isScalar(rv) ? parseDuration(String(rv.value)) : undefined;
                if (!ms) report(rv, `${where}.requires[${i}].healthy_for must be a duration such as 1h, 30m or 1h30m`);
                else healthyForMs = ms;
              }
            }
            const keys = isMap(item) ? item.items.map((p) => (isScalar(p.key) ? String(p.key.value) : '')) : [];
            if (isMap(item) && !(keys.includes('environment') && keys.includes('healthy_for')))
              report(item as Node, `${where}.requires[${i}] needs both environment and healthy_for`);
            if (environment && healthyForMs) policy.requires!.push({ environment, healthyForMs });
          });
      } else if (k === 'auto_rollback') {
        const rule: AutoRollbackRule = { on: [...AUTO_ROLLBACK_CAUSES], withinMs: 15 * 60_000 };
        for (const [rk, rv] of entries(v, `${where}.auto_rollback`, ['on', 'within'])) {
          if (rk === 'on') {
            rule.on = [];
            for (const c of strings(rv, `${where}.auto_rollback.on`)) {
              if ((AUTO_ROLLBACK_CAUSES as readonly string[]).includes(c.value)) rule.on.push(c.value as AutoRollbackCause);
              else report(c.node, `unknown "${c.value}" in ${where}.auto_rollback.on; expected any of: ${AUTO_ROLLBACK_CAUSES.join(', ')}`);
            }
          } else {
            const ms = isScalar(rv) ? parseDuration(String(rv.value)) : undefined;
            if (!ms) report(rv, `${where}.auto_rollback.within must be a duration such as 15m, 1h or 1h30m`);
            else rule.withinMs = ms;
          }
        }
        policy.autoRollback = rule;
      }
    }
    if (policyNode && isMap(policyNode[1]) && !sawTriggers)
      report(policyNode[2], `${where} has no allowed_triggers; expected a list of ${TRIGGER_TYPES.join(', ')}`);
    if (!sawBranches) policy.allowedBranches = ['*']; // no list: the branch is not restricted
    const freezeNode = env.find(([k]) => k === 'freeze_windows');
    const freezeWindows = freezeNode ? freezeWindowsOf(freezeNode[1], `environments.${name}.freeze_windows`) : undefined;
    const breakGlassNode = env.find(([k]) => k === 'break_glass');
    let breakGlassExpiresAfterMs: number | undefined;
    for (const [, v] of breakGlassNode ? entries(breakGlassNode[1], `environments.${name}.break_glass`, ['expires_after']) : []) {
      const value = isScalar(v) ? String(v.value) : undefined;
      const ms = value === undefined ? undefined : parseDuration(value);
      const at = `environments.${name}.break_glass.expires_after${value === undefined ? '' : ` "${value}"`}`;
      const problem = !ms
        ? `${at} is not a positive duration`
        : ms < MIN_FREEZE_WINDOW_MS
          ? `${at} is shorter than a minute`
          : ms > MAX_BREAK_GLASS_EXPIRES_AFTER_MS
            ? `${at} is longer than the longest break-glass grant, 24h`
            : undefined;
      if (problem) report(v, `${problem}; expected a duration such as 4h, 90m or 1h30m, from 1m to 24h`);
      else breakGlassExpiresAfterMs = ms;
    }
    environments.push({
      name,
      policy,
      ...(freezeWindows ? { freezeWindows } : {}),
      ...(breakGlassExpiresAfterMs ? { breakGlassExpiresAfterMs } : {}),
    });
  }
  for (const g of gateRefs)
    if (!environments.some((e) => e.name === g.environment))
      report(
        g.node,
        `${g.where} names "${g.environment}", which is not an environment of this file; expected one of: ${environments.map((e) => e.name).join(', ')}`,
      );
  if (problems.length)
    throw new PlatformConfigError(
      file,
      problems.sort((a, b) => a.line - b.line || a.col - b.col),
    );
  return { environments, ...(repoNode ? { repositories } : {}), ...(trains ? { trains } : {}) };
}
