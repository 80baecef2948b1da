/** Which repository a client command is about: --repository, else the checkout's `origin` remote. */
import { execFileSync } from 'node:child_process';
import { repositoryProblem } from '../core/identity.js';
import { UsageError } from './output.js';

/** `git@github.com:acme/mono.git`, `https://host/acme/mono` → `acme/mono` (the last two path segments). */
export function repositoryFromRemote(url: string): string | undefined {
  const path = url
    .replace(/\.git$/, '')
    .replace(/^[a-z+]+:\/\/[^/]+\//, '')
    .replace(/^[^@/]+@[^:]+:/, '');
  const parts = path.split('/').filter(Boolean);
  return parts.length >= 2 ? parts.slice(-2).join('/').toLowerCase() : undefined;
}

export function resolveRepository(option: string | undefined, cwd = process.cwd()): string {
  if (option) {
    const problem = repositoryProblem(option);
    if (problem) throw new UsageError(`invalid --repository: ${problem}`);
    return option.toLowerCase();
  }
  let url: string;
  try {
    url = execFileSync('git', ['remote', 'get-url', 'origin'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new UsageError('no repository given: pass --repository owner/name, or run inside a git checkout with an "origin" remote');
  }
  const repo = repositoryFromRemote(url);
  if (!repo || repositoryProblem(repo))
    throw new UsageError(`cannot tell the repository from the origin remote "${url}": pass --repository owner/name`);
  return repo;
}
