/** GitOps commit messages (DESIGN.md §8; the rollback message as spec §Rollback Operations shows it). */

export interface ReleaseLabel {
  releaseNumber: number;
  sha: string;
  /** Tag aliases in the order they were added; the first one names the release. */
  tagAliases: string[];
}

/** `42 (v1.2.3)`, or `42 (abc1234)` for a release without a tag alias. */
export function releaseLabel(r: ReleaseLabel): string {
  return `${r.releaseNumber} (${r.tagAliases[0] ?? r.sha.slice(0, 7)})`;
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
}

export function commitMessage(m: DeployMessage): string {
  if (m.kind === 'rollback') {
    return [
      `Rollback ${m.project} in ${m.environment} to release ${releaseLabel(m.release)}`,
      '',
      `Previous release: ${m.previous ? releaseLabel(m.previous) : 'none'}`,
      `Rolled back by: ${m.deployedBy}`,
      '',
    ].join('\n');
  }
  return [
    `Deploy ${m.project} to ${m.environment}: release ${releaseLabel(m.release)}`,
    '',
    `Repository: ${m.repository}`,
    `Release: ${m.release.sha}`,
    `Previous release: ${m.previous ? releaseLabel(m.previous) : 'none'}`,
    `Deployed by: ${m.deployedBy}`,
    `Approved by: ${m.approvedBy.length ? m.approvedBy.join(', ') : 'none'}`,
    `Deployment: ${m.deploymentId}`,
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
