/**
 * Rendering speed and memory (issue 14, acceptance 2), each figure beside a baseline measured in
 * the same run:
 *  - cold `forge render` of each examples/monorepo project (a new CLI process) against a bare
 *    `node -e 0`: target ≤ 1 s;
 *  - cold engine (helper start + first render) and warm render of the example's projects against
 *    the helper's own `export` of a one-field package: target warm ≤ 100 ms;
 *  - a 500-resource project: warm time and the helper's peak memory against its memory after a
 *    trivial render: target ≤ 512 MiB;
 *  - a repository of 20 projects of 50 resources rendered in one run (as `forge validate` does).
 *
 *   node --import tsx bench/render.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CueEngine, cueHelperPath, cueVersion } from '../src/pipeline/cue-engine.js';
import { readProjectSource } from '../src/pipeline/project.js';
import { renderWithPlaceholders } from '../src/pipeline/render.js';
import { openWorkspace } from '../src/pipeline/workspace.js';
import { record } from './report.js';

const REPO = resolve(import.meta.dirname, '..');
const EXAMPLE = join(REPO, 'examples/monorepo');
const PROJECTS = 20;
const RESOURCES = 50;
const BIG = 500;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

/** n sequential runs (the engine serialises calls: concurrent ones would time their queueing). */
async function repeat(n: number, fn: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

function project(name: string, resources: number): string {
  const artifacts = [0, 1, 2, 3, 4]
    .map(
      (i) =>
        `\t"img${i}": {type: "container", producer: "oci-layout": path: "build/${i}", publishers: registry: oci: repository: "registry.example.com/acme/${name}-${i}"}`,
    )
    .join('\n');
  const list = Array.from({ length: resources }, (_, i) => {
    if (i < 5)
      return `\tk8s.#Deployment & {metadata: name: "${name}-${i}", spec: template: spec: containers: [{name: "c", image: @artifact("img${i}.uri")}]}`;
    return `\tk8s.#ConfigMap & {metadata: name: "${name}-cm-${i}", data: {index: "${i}", owner: strings.ToUpper("${name}")}}`;
  }).join(',\n');
  return `package project

import (
	"strings"
	"example.org/bench/lib/k8s"
)

name: "${name}"
release: on: [{branch: "main"}, {tag: true}]
artifacts: {
${artifacts}
}
deployment: resources: [
${list},
]
`;
}

const K8S = `package k8s

#Deployment: {
	apiVersion: "apps/v1"
	kind: "Deployment"
	metadata: name: string
	spec: replicas: *2 | int
	spec: template: spec: containers: [...{name: string, image: string}]
}
#ConfigMap: {apiVersion: "v1", kind: "ConfigMap", metadata: name: string, data: [string]: string}
`;

const root = mkdtempSync(join(tmpdir(), 'forge-bench-render-'));
const write = (path: string, content: string) => {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
};
write('cue.mod/module.cue', 'module: "example.org/bench@v0"\nlanguage: version: "v0.12.0"\n');
write('.forge/repo.cue', 'package repo\ntagging: strategy: "monorepo"\n');
write('lib/k8s/k8s.cue', K8S);
write('trivial/trivial.cue', 'package trivial\n\nx: 1\n');
for (let i = 0; i < PROJECTS; i++) write(`services/p${i}/.forge/project.cue`, project(`p${i}`, RESOURCES));
write('big/.forge/project.cue', project('big', BIG));

console.log(`CUE ${await cueVersion()} (${cueHelperPath()})`);
const quiet = { warn: () => undefined };
const engine = new CueEngine(undefined, quiet);
try {
  // Cold `forge render`: a new CLI process per project, compiled (FORGE_BENCH_DIST=1 after
  // `npm run build`) or, by default, from source under tsx as the tests run it.
  const compiled = join(REPO, 'dist/src/cli/main.js');
  const useDist = Boolean(process.env.FORGE_BENCH_DIST) && existsSync(compiled);
  const cli = useDist ? [compiled] : ['--import', 'tsx', join(REPO, 'src/cli/main.ts')];
  const spawnMs = (args: string[]) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: EXAMPLE, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
    return performance.now() - t0;
  };
  const bareNode = median([0, 1, 2].map(() => spawnMs(['-e', '0'])));
  // Where a cold render's time goes: the CLI's own start (every command loads the whole CLI).
  const cliStart = median([0, 1, 2].map(() => spawnMs([...cli, 'version'])));
  console.log(`cold \`forge version\` (CLI start + one helper run): median ${cliStart.toFixed(0)} ms of 3`);
  for (const p of ['services/api', 'services/web']) {
    const cold = median([0, 1, 2].map(() => spawnMs([...cli, 'render', p])));
    record({
      figure: `render: cold \`forge render ${p}\``,
      value: cold,
      unit: 'ms',
      baseline: bareNode,
      target: '<= 1000 ms',
      met: cold <= 1000,
    });
    console.log(
      `cold forge render ${p} (${useDist ? 'dist' : 'tsx'}): median ${cold.toFixed(0)} ms of 3; bare node -e 0: ${bareNode.toFixed(0)} ms`,
    );
  }

  // The engine on the example's projects: helper start + first render, then warm.
  const trivialFloor = median(
    [0, 1, 2, 3, 4].map(() => {
      const t0 = performance.now();
      execFileSync(cueHelperPath(), ['export', root, './trivial:trivial']);
      return performance.now() - t0;
    }),
  );
  const ws = await openWorkspace(engine, EXAMPLE);
  for (const p of ws.projects) {
    const coldEngine = new CueEngine(undefined, quiet);
    const cold = await time(async () => renderWithPlaceholders(coldEngine, await readProjectSource(p.dir, ws.root), p.relDir));
    await coldEngine.close();
    const warm = median(
      await repeat(9, () => time(async () => renderWithPlaceholders(engine, await readProjectSource(p.dir, ws.root), p.relDir))),
    );
    record({ figure: `render: engine cold, example ${p.relDir}`, value: cold, unit: 'ms', baseline: trivialFloor, target: '-', met: true });
    record({
      figure: `render: warm, example ${p.relDir} (median)`,
      value: warm,
      unit: 'ms',
      baseline: trivialFloor,
      target: '<= 100 ms',
      met: warm <= 100,
    });
    console.log(
      `example ${p.relDir}: engine cold ${cold.toFixed(0)} ms, warm median ${warm.toFixed(0)} ms (target ≤ 100 ms); helper export of a one-field package as a process: ${trivialFloor.toFixed(0)} ms`,
    );
  }

  // 500 resources: time and the helper's peak memory, against a fresh helper after a trivial render.
  const fresh = new CueEngine(undefined, quiet);
  await fresh.export(root, './trivial:trivial', {}, 'trivial');
  const idleMiB = await fresh.peakMemoryMiB();
  const bigSrc = await readProjectSource(join(root, 'big'), root);
  const bigCold = await time(() => renderWithPlaceholders(fresh, bigSrc, 'big'));
  const bigWarm = median(await repeat(3, () => time(() => renderWithPlaceholders(fresh, bigSrc, 'big'))));
  const peakMiB = await fresh.peakMemoryMiB();
  await fresh.close();
  record({
    figure: `render: ${BIG}-resource project, helper peak memory`,
    value: peakMiB,
    unit: 'MiB',
    baseline: idleMiB,
    target: '<= 512 MiB',
    met: peakMiB <= 512,
  });
  record({ figure: `render: ${BIG}-resource project, warm (median)`, value: bigWarm, unit: 'ms', target: '-', met: true });
  console.log(
    `${BIG} resources: first ${bigCold.toFixed(0)} ms, warm median ${bigWarm.toFixed(0)} ms; helper peak ${peakMiB.toFixed(0)} MiB (after a trivial render: ${idleMiB.toFixed(0)} MiB; target ≤ 512 MiB)`,
  );

  // A repository of 20 projects, one engine (as `forge validate`).
  const all = await openWorkspace(engine, join(root, 'services'));
  const projects = all.projects.filter((p) => p.relDir.startsWith('services/'));
  const total = await time(async () => {
    for (const p of projects) await renderWithPlaceholders(engine, await readProjectSource(p.dir, all.root), p.relDir);
  });
  record({
    figure: `render: ${projects.length} projects of ${RESOURCES} resources, per project`,
    value: total / projects.length,
    unit: 'ms',
    target: '-',
    met: true,
  });
  console.log(
    `repository of ${projects.length} projects of ${RESOURCES} resources: ${total.toFixed(0)} ms total, ${(total / projects.length).toFixed(0)} ms per project`,
  );
} finally {
  await engine.close();
  rmSync(root, { recursive: true, force: true });
}
