/**
 * The platform configuration (DESIGN.md §7): environments and their promotion policies, read
 * from one YAML file and validated at start. Every problem names its line and column, what was
 * found and what was expected. Without a file the spec's three environments apply.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { parseDuration } from './duration.js';
import { projectProblem } from './identity.js';

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
}

export interface Environment {
  name: string;
  policy: PromotionPolicy;
}

export interface PlatformConfig {
  /** In the order the file lists them. */
  environments: Environment[];
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
  return undefined;
}

const POLICY_KEYS = ['allowed_triggers', 'allowed_branches', 'auto_deploy', 'requires_approval', 'approvals'];
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

  const environments: Environment[] = [];
  const root = doc.contents as Node | null;
  if (root === null)
    throw new PlatformConfigError(file, [{ line: 1, col: 1, message: 'the file is empty; expected a mapping with "environments"' }]);
  const top = entries(root, 'the top level', ['environments']);
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
    const env = entries(value, `environment "${name}"`, ['promotion_policy']);
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
      }
    }
    if (policyNode && isMap(policyNode[1]) && !sawTriggers)
      report(policyNode[2], `${where} has no allowed_triggers; expected a list of ${TRIGGER_TYPES.join(', ')}`);
    if (!sawBranches) policy.allowedBranches = ['*']; // no list: the branch is not restricted
    environments.push({ name, policy });
  }
  if (problems.length)
    throw new PlatformConfigError(
      file,
      problems.sort((a, b) => a.line - b.line || a.col - b.col),
    );
  return { environments };
}
