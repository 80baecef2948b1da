/**
 * Figures for `npm run bench`: each bench script records its headline figures here; run alone
 * it just prints its own output, run by bench/all.ts (FORGE_BENCH_OUT set) the figures are
 * collected into one table.
 */
import { appendFileSync } from 'node:fs';

export interface Figure {
  figure: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run, when there is one. */
  baseline?: number;
  target: string;
  /** Whether the target is met. */
  met: boolean;
}

export function record(f: Figure): void {
  if (process.env.FORGE_BENCH_OUT) appendFileSync(process.env.FORGE_BENCH_OUT, `${JSON.stringify(f)}\n`);
}
