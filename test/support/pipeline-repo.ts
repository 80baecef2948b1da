/** Real git repositories with Forge projects, made in temp dirs for the pipeline tests. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TestRepo {
  dir: string;
  write(path: string, content: string): void;
  git(...args: string[]): string;
  /** Commits everything, returns the sha. */
  commit(message?: string): string;
  remove(): void;
}

export function makeRepo(files: Record<string, string> = {}, branch = 'main'): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), 'forge-pipeline-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Alice',
        GIT_AUTHOR_EMAIL: 'alice@example.com',
        GIT_COMMITTER_NAME: 'Alice',
        GIT_COMMITTER_EMAIL: 'alice@example.com',
        GIT_AUTHOR_DATE: '2026-01-02T03:04:05Z',
        GIT_COMMITTER_DATE: '2026-01-02T03:04:05Z',
      },
    });
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  git('init', '-q', '-b', branch);
  git('config', 'commit.gpgsign', 'false');
  for (const [p, c] of Object.entries(files)) write(p, c);
  return {
    dir,
    write,
    git,
    commit(message = 'change') {
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD').trim();
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const MODULE = 'cue.mod/module.cue';
export const moduleFile = 'module: "example.org/mono"\n';

/** A minimal project file. */
export function projectCue(name: string, extra = ''): string {
  return `package project\n\nname: "${name}"\n${extra}\n`;
}
