/**
 * The thread that diffs two releases (issue #16; issue #19 item 2: a diff never runs on the
 * event loop). It receives each release's resources layer (bytes and media type), unpacks and
 * parses it, and answers the semantic diff (JSON) or the unified text diff. Started by
 * release-diff.ts in a bounded pool (worker-pool.ts) with a time and a memory limit; everything
 * CPU- or memory-heavy of a diff happens here.
 *
 * The unified diff is one text diff per object, objects matched by identity as the semantic
 * diff matches them, each headed by the object's path in the release: a reordered release or a
 * renamed file does not read as everything removed and added, and no text diff is ever run
 * over a whole release at once (that was quadratic in its size).
 */
import { createTwoFilesPatch } from 'diff';
import { CORE_SCHEMA, load } from 'js-yaml';
import { readResourcesLayer, resourceYaml } from '../core/release-image.js';
import { describeKey, isSecret, maskSecrets, type ObjectDiff, objectKey, semanticDiff } from '../core/semantic-diff.js';
import { serveJobs } from './worker-pool.js';

export interface DiffSide {
  release_number: number;
  commit_sha: string;
  layer: Uint8Array;
  mediaType: string;
}

export interface DiffJob {
  /** `semantic-json`: the semantic diff already as JSON text, so the event loop neither rebuilds nor serializes it. */
  format: 'semantic' | 'semantic-json' | 'unified';
  from: DiffSide;
  to: DiffSide;
}

export type DiffAnswer =
  | { ok: true; semantic?: ObjectDiff; semanticJson?: string; unified?: string }
  | { ok: false; code: string; message: string };

function files(side: DiffSide) {
  return readResourcesLayer(Buffer.from(side.layer.buffer, side.layer.byteOffset, side.layer.byteLength), side.mediaType).map((f) => {
    // js-yaml's YAML 1.2 core schema reads what Forge wrote as the yaml package does, ten times faster
    const object = load(f.yaml, { schema: CORE_SCHEMA }) as Record<string, unknown>;
    return { path: f.path, yaml: f.yaml, object, key: objectKey(object) };
  });
}

/** The diff `job` asks for. Pure apart from CPU and memory: runs in the worker, and in benches directly. */
export function computeDiff(job: DiffJob): DiffAnswer {
  const a = files(job.from);
  const b = files(job.to);
  if (job.format === 'semantic-json')
    return {
      ok: true,
      semanticJson: JSON.stringify(
        semanticDiff(
          a.map((f) => f.object),
          b.map((f) => f.object),
        ),
      ),
    };
  if (job.format === 'semantic')
    return {
      ok: true,
      semantic: semanticDiff(
        a.map((f) => f.object),
        b.map((f) => f.object),
      ),
    };
  const id = (f: (typeof a)[number]) => describeKey(f.key);
  const before = new Map(a.map((f) => [id(f), f]));
  const after = new Map(b.map((f) => [id(f), f]));
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const header = `release ${job.from.release_number} (${job.from.commit_sha}) → release ${job.to.release_number} (${job.to.commit_sha})\n`;
  const parts: string[] = [];
  for (const n of names) {
    const x = before.get(n);
    const y = after.get(n);
    if (x && y && x.yaml === y.yaml) continue;
    // a Secret's values are never shown, in this diff either: masked, saying which changed
    const secret = (x && isSecret(x.object)) || (y && isSecret(y.object));
    const [mx, my] = secret ? maskSecrets(x?.object, y?.object) : [];
    parts.push(
      createTwoFilesPatch(
        x ? `release ${job.from.release_number}/${x.path}` : '/dev/null',
        y ? `release ${job.to.release_number}/${y.path}` : '/dev/null',
        secret ? (mx ? resourceYaml(mx) : '') : (x?.yaml ?? ''),
        secret ? (my ? resourceYaml(my) : '') : (y?.yaml ?? ''),
        x ? job.from.commit_sha : '',
        y ? job.to.commit_sha : '',
      ),
    );
  }
  return { ok: true, unified: header + parts.join('') };
}

// One job at a time; the thread is kept for the next one (release-diff.ts runs a bounded pool of them).
serveJobs('diff-worker', computeDiff);
