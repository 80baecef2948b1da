/**
 * Where the GitOps repository lives and how to reach it (DESIGN.md §8, §14): a path,
 * `file://`, `ssh://` (or scp-like `user@host:path`) with a key file, or `https://` with a
 * token. The credentials reach git through its environment, never through argv or the URL.
 * The settings come from the server's settings (src/server/settings.ts: FORGE_GITOPS_URL,
 * FORGE_GITOPS_SSH_KEY_FILE, FORGE_GITOPS_SSH_KNOWN_HOSTS_FILE, FORGE_GITOPS_TOKEN[_FILE]).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Env } from '../config/environment.js';

export interface GitOpsRemote {
  /** What git is given as the remote. */
  url: string;
  /** Environment for every git process talking to it: the server's environment, then the credentials. */
  env: Env;
  /** The URL with any credentials removed, for messages. */
  display: string;
}

export interface RemoteSettings {
  url?: string;
  dataDir: string;
  sshKeyFile?: string;
  /** A known_hosts file pinning the server's host key. */
  knownHostsFile?: string;
  token?: string;
  /**
   * The environment git runs in (the server's, snapshotted by its settings: PATH, HOME, proxies,
   * SSH agent); absent = only the variables Forge sets.
   */
  environment?: Env;
}

/** The embedded default: a bare repository under the data directory. */
export function defaultRemotePath(dataDir: string): string {
  return resolve(dataDir, 'gitops.git');
}

export function resolveRemote(s: RemoteSettings): GitOpsRemote {
  const url = s.url ?? defaultRemotePath(s.dataDir);
  const base = s.environment ?? {};
  if (url.startsWith('https://') || url.startsWith('http://')) {
    const u = new URL(url);
    const display = `${u.protocol}//${u.host}${u.pathname}`;
    const env: Record<string, string | undefined> = { ...base };
    const token = s.token ?? (u.password || undefined);
    if (token) {
      const basic = Buffer.from(`${u.username || 'x-access-token'}:${token}`).toString('base64');
      Object.assign(env, {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
      });
    }
    return { url: display, env, display };
  }
  if (url.startsWith('ssh://') || /^[^/:]+@[^/:]+:/.test(url)) {
    const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
    const opts = ['-o BatchMode=yes'];
    if (s.sshKeyFile) opts.push(`-i ${quote(s.sshKeyFile)}`, '-o IdentitiesOnly=yes');
    // Pinned host keys when given (FORGE_GITOPS_SSH_KNOWN_HOSTS_FILE); otherwise trust on first use.
    if (s.knownHostsFile) opts.push(`-o UserKnownHostsFile=${quote(s.knownHostsFile)}`, '-o StrictHostKeyChecking=yes');
    else opts.push('-o StrictHostKeyChecking=accept-new');
    return { url, env: { ...base, GIT_SSH_COMMAND: `ssh ${opts.join(' ')}` }, display: url };
  }
  if (url.startsWith('file://')) return { url, env: base, display: url };
  const path = isAbsolute(url) ? url : resolve(url);
  return { url: path, env: base, display: path };
}

/** Creates the embedded bare repository (with `branch` as its default) unless it exists. */
export function initEmbeddedRemote(path: string, branch: string): void {
  if (existsSync(path)) return;
  execFileSync('git', ['init', '--quiet', '--bare', `--initial-branch=${branch}`, path], { stdio: ['ignore', 'ignore', 'pipe'] });
}
