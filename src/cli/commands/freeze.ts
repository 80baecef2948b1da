/** `forge freeze list [--environment ENV] [--at TIME]`: the freeze windows in force and the next ones (issue #16). */
import type { Command } from 'commander';
import type { FreezeWindows } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { run } from '../run.js';

type Opts = { server?: string; token?: string; output: string; environment?: string; at?: string };

export function registerFreeze(program: Command) {
  const freeze = program.command('freeze').description('freeze windows: when deployments to an environment are refused');
  clientOptions(freeze.command('list').description('the freeze windows in force now (or --at a time) and the next occurrence of each'))
    .option('--environment <env>', 'only this environment')
    .option('--at <time>', 'RFC 3339 time to look from (default: now), e.g. 2026-12-24T18:00:00+01:00')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: Opts) => {
        const format = parseFormat(opts.output);
        const q = new URLSearchParams();
        if (opts.environment) q.set('environment', opts.environment);
        if (opts.at) q.set('at', opts.at);
        const w = await client(opts).request<FreezeWindows>('GET', `/freeze-windows${q.size ? `?${q}` : ''}`);
        const rows = (state: string, list: FreezeWindows['current']) =>
          list.map((o) => [state, o.environment, o.window, o.start, o.end, o.timezone ?? '-', o.applies_to.join(', ')]);
        print(w, format, () =>
          [
            `at ${w.at}: ${w.current.length ? `${w.current.length} window(s) in force` : 'no window in force'}`,
            table(
              ['state', 'environment', 'window', 'from', 'until', 'timezone', 'applies to'],
              [...rows('IN FORCE', w.current), ...rows('next', w.next)],
            ),
          ].join('\n'),
        );
      }),
    );
}
