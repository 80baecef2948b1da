/**
 * GitOps commit messages (DESIGN.md §8; the rollback message as spec §Rollback Operations shows it).
 *
 * Every value Forge writes into a message is escaped (issue #13 item 4): a value that is plain
 * text (no control, format or separator characters, no leading or trailing space, no `"`, `,`
 * or `\`, and not the word `none` where a list may say none) is written as is; any other is
 * written as a JSON string with everything outside printable ASCII as `\uXXXX`. So a value can
 * never add a line, and `parseCommitMessage` reads each message back to exactly what was written.
 */

export interface ReleaseLabel {
  releaseNumber: number;
  sha: string;
  /** Tag aliases in the order they were added; the first one names the release. */
  tagAliases: string[];
}

const PLAIN = /^[^\s",\\\p{C}\p{Z}](?:[^",\\\p{C}\p{Zl}\p{Zp}]*[^\s",\\\p{C}\p{Z}])?$/u;

/** `value` as written in a message: as is when plain, else a JSON string in printable ASCII. */
export function messageValue(value: string): string {
  if (PLAIN.test(value) && value !== 'none') return value;
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A list of values: `none` when empty, else each value (messageValue) joined by `, `. */
export function messageList(values: string[]): string {
  return values.length ? values.map(messageValue).join(', ') : 'none';
}

/**
 * `42 (v1.2.3)`, or `42 (sha abc1234)` for a release without a tag alias; the tag escaped as
 * messageValue. The short sha is marked (issue #13 review F8): a tag may look like a short sha
 * (`ABCDEF1`), but no tag holds a space (git's ref-name rules), so `sha <hex>` is never a tag.
 */
export function releaseLabel(r: ReleaseLabel): string {
  return `${r.releaseNumber} (${r.tagAliases[0] !== undefined ? messageValue(r.tagAliases[0]) : `sha ${r.sha.slice(0, 7)}`})`;
}

export interface DeployMessage {
  kind: 'deploy' | 'auto' | 'rollback';
  project: string;
  environment: string;
  repository: string;
  release: ReleaseLabel;
  previous: ReleaseLabel | null;
  deployedBy: string;
  approvedBy: string[];
  deploymentId: string;
  /** Why, when the deployer said (an automatic rollback always does); written as its own `Reason:` field. */
  reason?: string | null;
}

export function commitMessage(m: DeployMessage): string {
  if (m.kind === 'rollback') {
    return [
      `Rollback ${m.project} in ${m.environment} to release ${releaseLabel(m.release)}`,
      '',
      `Previous release: ${m.previous ? releaseLabel(m.previous) : 'none'}`,
      `Rolled back by: ${messageValue(m.deployedBy)}`,
      ...(m.reason ? [`Reason: ${messageValue(m.reason)}`] : []),
      '',
    ].join('\n');
  }
  return [
    `Deploy ${m.project} to ${m.environment}: release ${releaseLabel(m.release)}`,
    '',
    `Repository: ${messageValue(m.repository)}`,
    `Release: ${messageValue(m.release.sha)}`,
    `Previous release: ${m.previous ? releaseLabel(m.previous) : 'none'}`,
    `Deployed by: ${messageValue(m.deployedBy)}`,
    `Approved by: ${messageList(m.approvedBy)}`,
    `Deployment: ${messageValue(m.deploymentId)}`,
    '',
  ].join('\n');
}

/**
 * One commit carrying several deployments: a summary line, then each deployment's own message
 * in full, separated by a line of dashes. A batch of one is that deployment's message unchanged.
 */
export function batchMessage(messages: string[]): string {
  if (messages.length === 1) return messages[0];
  return [
    `Deploy ${messages.length} releases`,
    '',
    ...messages.map((m) => `- ${m.split('\n')[0]}`),
    '',
    ...messages.flatMap((m) => ['---', '', m.trimEnd(), '']),
  ].join('\n');
}

/** Reads one value written by messageValue from the start of `text`: the value and the rest. Throws on a malformed quote. */
function readValue(text: string, until: RegExp): { value: string; rest: string } {
  if (text.startsWith('"')) {
    let i = 1;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) throw new Error(`unterminated quoted value: ${text}`);
    return { value: JSON.parse(text.slice(0, i + 1)), rest: text.slice(i + 1) };
  }
  const m = until.exec(text);
  const end = m ? m.index : text.length;
  return { value: text.slice(0, end), rest: text.slice(end) };
}

/** The value of one `Key: value` field written by messageValue. */
export function parseMessageValue(text: string): string {
  const { value, rest } = readValue(text, /$/);
  if (rest !== '') throw new Error(`trailing text after a quoted value: ${rest}`);
  return value;
}

/** The values of a field written by messageList (`none` is the empty list). */
export function parseMessageList(text: string): string[] {
  if (text === 'none') return [];
  const out: string[] = [];
  let rest = text;
  for (;;) {
    const r = readValue(rest, /, /);
    out.push(r.value);
    if (r.rest === '') return out;
    if (!r.rest.startsWith(', ')) throw new Error(`expected ", " between values, got: ${r.rest}`);
    rest = r.rest.slice(2);
  }
}

/**
 * A label written by releaseLabel: the number and the tag alias (`kind: 'tag'`) or the short
 * sha (`sha <hex>`, `kind: 'sha'`) in parentheses. A label written before the sha was marked
 * (`42 (abc1234)`) reads as a tag: those messages cannot tell the two apart.
 */
export function parseReleaseLabel(text: string): { releaseNumber: number; name: string; kind: 'tag' | 'sha' } {
  const m = /^([1-9][0-9]*) \((.*)\)$/s.exec(text);
  if (!m) throw new Error(`not a release label: ${text}`);
  const sha = /^sha ([0-9a-f]{7,64})$/.exec(m[2]);
  if (sha) return { releaseNumber: Number(m[1]), name: sha[1], kind: 'sha' };
  return { releaseNumber: Number(m[1]), name: parseMessageValue(m[2]), kind: 'tag' };
}

export interface ParsedDeployMessage {
  subject: string;
  /** Each `Key: value` line of the body, values still as written (see parseMessageValue/List). */
  fields: Record<string, string>;
}

/**
 * Splits one deployment's message (commitMessage) into its subject and its `Key: value` lines.
 * Throws when a body line is not `Key: value` or a key repeats: what Forge writes never does
 * either, so a forged line cannot pass as a field.
 */
export function parseCommitMessage(text: string): ParsedDeployMessage {
  const [subject, blank, ...body] = text.replace(/\n+$/, '').split('\n');
  if (blank !== undefined && blank !== '') throw new Error('the second line of a commit message must be empty');
  const fields: Record<string, string> = {};
  for (const line of body) {
    const m = /^([A-Za-z][A-Za-z-]*(?: [a-z]+)*): (.*)$/.exec(line);
    if (!m) throw new Error(`not a "Key: value" line: ${JSON.stringify(line)}`);
    if (Object.hasOwn(fields, m[1])) throw new Error(`the field "${m[1]}" appears twice`);
    fields[m[1]] = m[2];
  }
  return { subject, fields };
}
