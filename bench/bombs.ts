/**
 * bench/bombs: how fast hostile YAML is refused (issue 8, acceptance 3), beside a legitimate
 * platform config of a thousand environments parsed in the same run. The tests
 * (test/bombs.test.ts) check that each bomb is refused and with which message; the time it
 * takes is measured here, where a slow machine makes a figure worse instead of a test red.
 * Target: every bomb refused within 5 s.
 *   npx tsx bench/bombs.ts [--runs 5]
 */
import { parsePlatformConfig } from '../src/core/platform-config.js';
import { parsePointer } from '../src/core/pointer.js';
import { benchArgs } from './args.js';
import { printTable } from './load.js';
import { record } from './report.js';

const { values } = benchArgs(import.meta.url, { options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

const laughs = (levels: number) =>
  [
    'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...Array.from({ length: levels }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
  ].join('\n');
const plain = `environments:\n${Array.from({ length: 1000 }, (_, i) => `  env-${i}: { promotion_policy: { allowed_triggers: [tag, manual], allowed_branches: [main, "release/*"] } }`).join('\n')}\n`;

/** Median milliseconds of `runs` calls; `refused` says whether the call must throw. */
function median(fn: () => unknown, refused: boolean): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    let threw = false;
    try {
      fn();
    } catch {
      threw = true;
    }
    times.push(performance.now() - t0);
    if (threw !== refused) throw new Error(refused ? 'a bomb was accepted' : 'the plain config was refused');
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const baseline = median(() => parsePlatformConfig(plain, 'plain.yaml'), false);
const rows: (string | number)[][] = [['input', 'bytes', 'median ms', 'vs plain config', 'target']];
rows.push(['plain config, 1000 environments', plain.length, baseline.toFixed(1), '1.00', '-']);
for (const [name, text, parse] of [
  ['platform config: alias expansion (billion laughs)', `${laughs(9)}\nenvironments: {}\n`, parsePlatformConfig],
  ['platform config: 50,000 levels of nesting', `environments: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`, parsePlatformConfig],
  [
    'platform config: a 5 MB string',
    `environments:\n  dev: { promotion_policy: { allowed_branches: ["${'x'.repeat(5_000_000)}"] } }\n`,
    parsePlatformConfig,
  ],
  ['pointer: alias expansion (billion laughs)', `${laughs(9)}\napiVersion: forge.projectcatalyst.io/v1alpha1\n`, parsePointer],
] as const) {
  const ms = median(() => parse(text), true);
  record({ figure: `bombs: ${name} refused in`, value: ms, unit: 'ms', baseline, target: '< 5000 ms', met: ms < 5000 });
  rows.push([name, text.length, ms.toFixed(1), (ms / baseline).toFixed(2), '< 5000 ms']);
}
printTable(rows);
