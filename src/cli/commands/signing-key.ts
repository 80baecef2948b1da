/**
 * `forge signing-key list|add|retire|resign` (issue 13 item 5): the installation's signing
 * keys. `list -o pem` prints the published set, the file verifiers are given as
 * FORGE_SIGNING_PUBLIC_KEY_FILE (the Argo CD plugin, `forge release verify`); `add` registers
 * a public key before replicas rotate to it; `resign` re-signs the releases no key of the set
 * verifies (the upgrade path for releases signed by lost per-replica keys).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AddedSigningKey, ResignResult, SigningKeyInfo, SigningKeySet } from '../../contract/index.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table, UsageError } from '../output.js';
import { run } from '../run.js';

type Opts = { server?: string; token?: string; output: string };

export function registerSigningKey(program: Command) {
  const keys = program.command('signing-key').description("the installation's release signing keys");

  clientOptions(keys.command('list').description('the published key set; -o pem prints it as the file verifiers configure'))
    .option('-o, --output <format>', 'table, json, yaml or pem', 'table')
    .action(
      run(async (opts: Opts) => {
        const set = await client(opts).request<SigningKeySet>('GET', '/signing-keys');
        if (opts.output === 'pem') {
          process.stdout.write(set.pem);
          return;
        }
        print(set, parseFormat(opts.output), () =>
          table(
            ['key id', 'added', 'by', 'retired'],
            set.items.map((k) => [k.key_id, k.added_at, k.added_by, k.retired_at ?? '']),
          ),
        );
      }),
    );

  clientOptions(keys.command('add').description('add a public key to the set, before rotating replicas to its private half (operator)'))
    .requiredOption('--public-key-file <file>', 'the EC P-256 public key, PEM (e.g. signing-key.pem.pub)')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: Opts & { publicKeyFile: string }) => {
        const format = parseFormat(opts.output);
        let pem: string;
        try {
          pem = readFileSync(opts.publicKeyFile, 'utf8');
        } catch (err) {
          throw new UsageError(`cannot read --public-key-file ${opts.publicKeyFile}: ${(err as Error).message}`);
        }
        const res = await client(opts).request<AddedSigningKey>('POST', '/signing-keys', { public_key: pem });
        print(res, format, () => `${res.added ? 'added' : 'already in the set'}: ${res.key.key_id}`);
      }),
    );

  clientOptions(keys.command('retire').description('retire a key: it still verifies, no replica may sign with it (operator)'))
    .argument('<key-id>', 'the key id (64 hex characters, forge signing-key list)')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (keyId: string, opts: Opts) => {
        const format = parseFormat(opts.output);
        const key = await client(opts).request<SigningKeyInfo>('POST', `/signing-keys/${encodeURIComponent(keyId)}/retire`);
        print(key, format, () => `retired: ${key.key_id} (${key.retired_at})`);
      }),
    );

  clientOptions(
    keys
      .command('resign')
      .description(
        "re-sign, with the answering server's key, every release no key of the set verifies (operator); exits 1 if any could not be re-signed",
      ),
  )
    .option('--dry-run', 'only list the releases that would be re-signed')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(async (opts: Opts & { dryRun?: boolean }) => {
        const format = parseFormat(opts.output);
        const res = await client(opts).request<ResignResult>('POST', '/signing-keys/resign', { dry_run: !!opts.dryRun });
        print(res, format, () =>
          [
            `checked ${res.checked} releases; ${res.releases.length} not verified by the key set${res.dry_run ? ' (dry run: nothing changed)' : `, re-signed with ${res.key_id.slice(0, 16)}…`}`,
            ...(res.releases.length
              ? [
                  table(
                    ['release', 'number', 'new signature', 'why'],
                    res.releases.map((r) => [r.release, r.release_number, r.signature_digest ?? '', r.reason]),
                  ),
                ]
              : []),
          ].join('\n'),
        );
        if (!res.dry_run && res.releases.some((r) => !r.signature_digest)) process.exitCode = 1;
      }),
    );
}
