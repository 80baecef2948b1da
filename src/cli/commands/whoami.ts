/** `forge whoami`: who the server takes the token for (`--token`, FORGE_TOKEN or `forge login`), and its roles. */
import type { Command } from 'commander';
import type { Whoami } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table } from '../output.js';
import { run } from '../run.js';

export function registerWhoami(program: Command) {
  clientOptions(program.command('whoami').description('show the identity and roles the server sees'))
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: { server?: string; token?: string; output: string }) => {
        const format = parseFormat(opts.output);
        const me = await client(opts).request<Whoami>('GET', '/whoami');
        print(me, format, () =>
          table(
            ['field', 'value'],
            [
              ['subject', me.subject],
              ['roles', me.roles.join(', ') || '(none)'],
            ],
          ),
        );
      }),
    );
}
