/**
 * `forge release verify PROJECT REF`: pulls the release's signature from the registry (tag
 * sha256-<hex>.sig beside the image) and checks it with the public key in
 * FORGE_SIGNING_PUBLIC_KEY_FILE (or --public-key): signed by that key, over that manifest digest.
 * With no key given, the installation's published key set (GET /signing-keys) is fetched from
 * the server (issue #13 review F9) and the answer says so: that checks the registry's signature
 * against what the server publishes; a key file held apart checks the server too.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Release, SigningKeySet } from '../../contract/index.js';
import { imageRepository } from '../../core/identity.js';
import { client, clientOptions } from '../client.js';
import { parseFormat, print, table, UsageError } from '../output.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { cliSettings } from '../settings.js';
import { releasePath, storeFor } from './release.js';

export function registerReleaseVerify(program: Command) {
  const release = program.commands.find((c) => c.name() === 'release');
  if (!release) throw new Error('register the release command first');
  clientOptions(
    release
      .command('verify')
      .description("check the release's signature with the signing public key; exits 1 when unsigned or wrongly signed"),
  )
    .argument('<project>')
    .argument('<ref>')
    .option('--repository <owner/name>', 'repository (default: the origin remote of the current checkout)')
    .option(
      '--public-key <file>',
      "PEM public key, or the installation's published key set (forge signing-key list -o pem); env FORGE_SIGNING_PUBLIC_KEY_FILE; default: the key set the server publishes (GET /signing-keys)",
    )
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(
      run(
        async (
          project: string,
          ref: string,
          opts: { server?: string; token?: string; repository?: string; publicKey?: string; output: string },
        ) => {
          const format = parseFormat(opts.output);
          const publicKeyFile = opts.publicKey ?? cliSettings().signingPublicKeyFile;
          const api = client(opts);
          let publicKey: string;
          if (publicKeyFile) publicKey = readFileSync(publicKeyFile, 'utf8');
          else {
            const set = await api.request<SigningKeySet>('GET', '/signing-keys');
            if (!set.pem.includes('-----BEGIN PUBLIC KEY-----'))
              throw new UsageError(
                'no public key: the server publishes no signing key (GET /signing-keys); pass --public-key FILE or set FORGE_SIGNING_PUBLIC_KEY_FILE',
              );
            publicKey = set.pem;
          }
          const keySource = publicKeyFile ?? 'the key set the server publishes (GET /signing-keys)';
          const r = await api.request<Release>('GET', releasePath(resolveRepository(opts.repository), project, ref));
          const repo = imageRepository(r);
          const { verifyStoredRelease } = await import('../../signing/index.js'); // sigstore is loaded only to verify
          const result = await verifyStoredRelease(await storeFor(r.oci_uri, repo), repo, r.oci_digest, publicKey);
          const answer = {
            verified: true,
            release: r.canonical_id,
            release_number: r.release_number,
            manifest_digest: r.oci_digest,
            public_key: keySource,
            ...result,
          };
          print(
            answer,
            format,
            () =>
              `verified: release ${r.release_number} (${r.oci_digest}) is signed by key ${result.keyId} (checked with ${keySource})\n` +
              table(['field', 'value'], [['signature', `${result.tag} ${result.signature_digest}`]]),
          );
        },
      ),
    );
}
