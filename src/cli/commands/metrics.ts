/** `forge metrics`: DORA metrics (issue 15) per environment, repository and project over a time range. */
import type { Command } from 'commander';
import type { DoraMetrics } from '../../contract/index.js';
import { parseRfc3339, rfc3339Problem } from '../../core/rfc3339.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table, UsageError } from '../output.js';
import { run } from '../run.js';

const duration = (s: number | null) => {
  if (s === null) return '-';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${m}m` : m ? `${m}m${s % 60}s` : `${s}s`;
};

export function registerMetrics(program: Command) {
  clientOptions(
    program
      .command('metrics')
      .description(
        'DORA metrics: deployment frequency, lead time (commit → healthy), change failure rate and time to restore (default: the last 30 days)',
      ),
  )
    .option('-e, --environment <env>', 'only this environment')
    .option('-r, --repository <owner/name>', 'only this repository')
    .option('-p, --project <project>', 'only this project')
    .option('--from <time>', 'start of the range, RFC 3339 (default: 30 days before --to)')
    .option('--to <time>', 'end of the range, RFC 3339 (default: now)')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(
        async (opts: {
          server?: string;
          token?: string;
          output: string;
          environment?: string;
          repository?: string;
          project?: string;
          from?: string;
          to?: string;
        }) => {
          const format = parseFormat(opts.output);
          const q = new URLSearchParams();
          for (const k of ['environment', 'repository', 'project', 'from', 'to'] as const) {
            const v = opts[k];
            if (v === undefined) continue;
            if ((k === 'from' || k === 'to') && !parseRfc3339(v)) throw new UsageError(`--${k} ${rfc3339Problem(v)}`);
            q.set(k, v);
          }
          const m = await client(opts).request<DoraMetrics>('GET', `/metrics/dora${q.size ? `?${q}` : ''}`);
          print(m, format, () =>
            [
              `${m.from} .. ${m.to}`,
              table(
                ['metric', 'value'],
                [
                  ['deployments', String(m.deployments)],
                  ['deployment frequency', `${m.deployment_frequency} per day`],
                  ['lead time (commit → healthy, median)', duration(m.lead_time_seconds)],
                  ['change failure rate', m.change_failure_rate === null ? '-' : `${Math.round(m.change_failure_rate * 1000) / 10}%`],
                  ['time to restore (median)', duration(m.time_to_restore_seconds)],
                ],
              ),
            ].join('\n'),
          );
        },
      ),
    );
}
