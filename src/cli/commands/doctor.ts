import type { Command } from 'commander';
import type { DoctorRepair, DoctorReport } from '../../contract/index.js';
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
    .option(
      '--repair',
      'make the database follow the GitOps branch tip wherever they disagree (each change audited as deployment.adopted), then check again',
    )
    .action(
      run(async (opts: { server?: string; token?: string; output: string; repair?: boolean }) => {
        const format = parseFormat(opts.output);
        const api = client(opts);
        const repaired = opts.repair ? await api.request<DoctorRepair>('POST', '/doctor/repair') : undefined;
        const report = repaired ? repaired.report : await api.request<DoctorReport>('GET', '/doctor');
        const c = report.checked;
        print(repaired ?? report, format, () =>
          [
            ...(repaired
              ? [
                  repaired.adopted.length
                    ? `adopted what the GitOps repository holds in ${repaired.adopted.length} place${repaired.adopted.length === 1 ? '' : 's'}:\n${table(
                        ['environment', 'project', 'now active', 'was'],
                        repaired.adopted.map((a) => [
                          a.environment,
                          `${a.repository}/${a.project}`,
                          a.active_deployment_id ?? '(nothing)',
                          a.problem,
                        ]),
                      )}`
                    : 'nothing to adopt from the GitOps repository',
                ]
              : []),
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
