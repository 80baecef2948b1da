import type { Command } from 'commander';
import type { DoctorReport } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { run } from '../run.js';

export function registerDoctor(program: Command) {
  clientOptions(
    program
      .command('doctor')
      .description('check a running installation: database, release store and GitOps repository agree (exits 1 on any finding)'),
  )
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: { server?: string; token?: string; output: string }) => {
        const format = parseFormat(opts.output);
        const report = await client(opts).request<DoctorReport>('GET', '/doctor');
        const c = report.checked;
        print(report, format, () =>
          [
            `checked ${c.releases} releases, ${c.active_deployments} active deployments, ${c.pointer_files} pointer files, ${c.audit_entries} audit entries`,
            report.ok
              ? 'everything agrees'
              : table(
                  ['check', 'subject', 'problem'],
                  report.findings.map((f) => [f.check, f.subject, f.problem]),
                ),
          ].join('\n'),
        );
        if (!report.ok) process.exitCode = 1;
      }),
    );
}
