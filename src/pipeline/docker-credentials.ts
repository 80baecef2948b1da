/**
 * Registry credentials for publishing (DESIGN.md §4): the `auths` of the standard Docker
 * client configuration, `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. Credential
 * helpers (`credsStore`, `credHelpers`) are not run.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ForgeError } from '../core/errors.js';

export interface RegistryCredentials {
  username?: string;
  password?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
}

/** `https://index.docker.io/v1/`, `http://host:5000`, `host:5000/` → `host:5000` (Docker Hub's legacy key → `docker.io`). */
function normaliseKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').split('/')[0];
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export async function dockerCredentials(registryHost: string, env: NodeJS.ProcessEnv = process.env): Promise<RegistryCredentials> {
  const file = join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
  } catch (e) {
    throw new ForgeError('validation_error', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  const want = normaliseKey(registryHost);
  const entry = Object.entries(config.auths ?? {}).find(([k]) => normaliseKey(k) === want)?.[1];
  if (!entry) return {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new ForgeError('validation_error', `${file}: auths."${want}".auth is not base64 of "user:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return { username: entry.username, password: entry.password };
}
