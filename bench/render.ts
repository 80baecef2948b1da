/**
 * Rendering speed (issue 3): a project of 50 resources with 5 @artifact references, first
 * render (worker start + CUE WebAssembly compile) and warm; then a repository of 20 such
 * projects rendered in one run (as `forge validate` does). Target: warm ≤ 300 ms per project.
 *
 *   node --import tsx bench/render.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CueEngine } from '../src/pipeline/cue-engine.js';
import { readProjectSource } from '../src/pipeline/project.js';
import { renderWithPlaceholders } from '../src/pipeline/render.js';
import { openWorkspace } from '../src/pipeline/workspace.js';
import { record } from './report.js';

const PROJECTS = 20;
const RESOURCES = 50;

function project(name: string): string {
  const artifacts = [0, 1, 2, 3, 4]
    .map((i) => `\t"img${i}": {type: "container", producer: "oci-layout": path: "build/${i}", publishers: registry: oci: repository: "registry.example.com/acme/${name}-${i}"}`)
    .join('\n');
  const resources = Array.from({ length: RESOURCES }, (_, i) => {
    if (i < 5) return `\tk8s.#Deployment & {metadata: name: "${name}-${i}", spec: template: spec: containers: [{name: "c", image: @artifact("img${i}.uri")}]}`;
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
${resources},
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
write('cue.mod/module.cue', 'module: "example.org/bench"\n');
write('.forge/repo.cue', 'package repo\ntagging: strategy: "monorepo"\n');
write('lib/k8s/k8s.cue', K8S);
for (let i = 0; i < PROJECTS; i++) write(`services/p${i}/.forge/project.cue`, project(`p${i}`));

const ms = (t0: number) => (performance.now() - t0).toFixed(0);
const engine = new CueEngine();
try {
  const ws = await openWorkspace(engine, root); // starts the engine (repo.cue)
  const one = ws.projects[0];
  const engine2 = new CueEngine();
  let t0 = performance.now();
  const cfg = await renderWithPlaceholders(engine2, await readProjectSource(one.dir, root), one.relDir);
  record({ figure: 'render: first project (engine start)', value: performance.now() - t0, unit: 'ms', target: '-', met: true });
  console.log(`first render (new engine: worker + WASM compile): ${ms(t0)} ms  (${cfg.resources.length} resources, 5 @artifact refs)`);
  await engine2.close();

  const warm: number[] = [];
  for (let i = 0; i < 10; i++) {
    t0 = performance.now();
    await renderWithPlaceholders(engine, await readProjectSource(one.dir, root), one.relDir);
    warm.push(performance.now() - t0);
  }
  warm.sort((a, b) => a - b);
  record({ figure: 'render: warm, 50 resources + 5 refs (median)', value: warm[5], unit: 'ms', target: '<= 300 ms', met: warm[5] <= 300 });
  console.log(`warm render: median ${warm[5].toFixed(0)} ms, min ${warm[0].toFixed(0)} ms, max ${warm[9].toFixed(0)} ms (10 runs; target ≤ 300 ms)`);

  t0 = performance.now();
  for (const p of ws.projects) await renderWithPlaceholders(engine, await readProjectSource(p.dir, root), p.relDir);
  const total = performance.now() - t0;
  record({ figure: `render: ${ws.projects.length} projects, per project`, value: total / ws.projects.length, unit: 'ms', target: '-', met: true });
  console.log(`repository of ${ws.projects.length} projects: ${total.toFixed(0)} ms total, ${(total / ws.projects.length).toFixed(0)} ms per project`);
} finally {
  await engine.close();
  rmSync(root, { recursive: true, force: true });
}
