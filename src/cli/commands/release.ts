import type { Command } from 'commander';
import type { List, Release } from '../../contract/index.js';
import { imageRepository } from '../../core/identity.js';
import { client, clientOptions } from '../client.js';
import { assertKnown } from '../known.js';
import { parseFormat, print, table } from '../output.js';
import { hintNextPage, type PageOpts, pageOptions, pageQuery } from '../paging.js';
import { resolveRepository } from '../repository.js';
import { run } from '../run.js';
import { cliSettings } from '../settings.js';

type Opts = { server?: string; token?: string; repository?: string; output: string };

const common = (cmd: Command) =>
  clientOptions(cmd)
    .option('--repository <owner/name>', 'repository (default: the origin remote of the current checkout)')
    .option('-o, --output <format>', 'table, json or yaml', 'table');

export const releasePath = (repo: string, project: string, ref?: string) =>
  `/releases/${repo}/${encodeURIComponent(project)}${ref === undefined ? '' : `/${encodeURIComponent(ref)}`}`;

export const aliasText = (r: Release) =>
  r.aliases
    .filter((a) => a.alias_type !== 'numeric')
    .map((a) => a.alias)
    .join(', ');

function describe(r: Release): string {
  return table(
    ['field', 'value'],
    [
      ['release', `${r.release_number} (${aliasText(r) || 'no aliases'})`],
      ['canonical id', r.canonical_id],
      ['oci uri', r.oci_uri],
      ['oci digest', r.oci_digest],
      ['resources digest', r.resources_digest],
      ['created', `${r.created_at} by ${r.created_by}`],
      ['commit', `${r.commit_sha} ${r.source.author ?? ''} ${(r.source.message ?? '').split('\n')[0]}`.trim()],
      ['triggers', r.triggers.map((t) => t.type + (t.branch ? `:${t.branch}` : '') + (t.tag ? `:${t.tag}` : '')).join(', ')],
      ['artifacts', r.artifacts.map((a) => String(a.name)).join(', ') || '-'],
    ],
  );
}

/** The store that holds a release image, from its OCI URI (`oci:/path/...` is a layout, else a registry), with the CLI's registry credentials. */
export async function storeFor(ociUri: string, repository: string) {
  const prefix = ociUri.slice(0, ociUri.lastIndexOf(`/${repository}:`));
  const settings = cliSettings();
  // The registry client is loaded only by the commands that pull (start time of the others).
  const { openReleaseStore } = await import('../../registry/index.js');
  return openReleaseStore({
    ...settings.registry,
    registry: prefix.startsWith('oci:') ? `oci-layout:${prefix.slice(4)}` : prefix,
    dataDir: settings.dataDir,
  });
}

export function registerRelease(program: Command) {
  const release = program.command('release').description('read releases');

  common(release.command('get').description('show one release by tag or branch alias, number or sha (prefix)'))
    .argument('<project>')
    .argument('<ref>')
    .action(
      run(async (project: string, ref: string, opts: Opts) => {
        const format = parseFormat(opts.output);
        const r = await client(opts).request<Release>('GET', releasePath(resolveRepository(opts.repository), project, ref));
        print(r, format, () => describe(r));
      }),
    );

  pageOptions(common(release.command('list').description('list the releases of a project, newest first')).argument('<project>')).action(
    run(async (project: string, opts: Opts & PageOpts) => {
      const format = parseFormat(opts.output);
      const repo = resolveRepository(opts.repository);
      const api = client(opts);
      const page = await api.request<List<Release>>('GET', `${releasePath(repo, project)}?${pageQuery(opts)}`);
      if (!page.total) await assertKnown(api, repo, project);
      print(
        page,
        format,
        () =>
          table(
            ['#', 'aliases', 'commit', 'created', 'by'],
            page.items.map((r) => [r.release_number, aliasText(r), r.commit_sha.slice(0, 12), r.created_at, r.created_by]),
          ) + `\n(${page.items.length} of ${page.total})`,
      );
      hintNextPage(page, format);
    }),
  );

  common(release.command('inspect').description('pull the release image itself and show its metadata, layers and digests'))
    .argument('<project>')
    .argument('<ref>')
    .action(
      run(async (project: string, ref: string, opts: Opts) => {
        const format = parseFormat(opts.output);
        const repo = resolveRepository(opts.repository);
        const r = await client(opts).request<Release>('GET', releasePath(repo, project, ref));
        const store = await storeFor(r.oci_uri, imageRepository(r));
        const { parseReleaseManifest } = await import('../../core/release-image.js');
        const manifest = await store.getManifest(imageRepository(r), r.oci_digest);
        const parsed = parseReleaseManifest(manifest.bytes);
        const metadata = JSON.parse(
          (await store.getBlob(imageRepository(r), parsed.metadata.digest, parsed.metadata.size)).toString('utf8'),
        );
        const layers = [parsed.metadata, parsed.resources].map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }));
        const out = { oci_uri: r.oci_uri, manifest_digest: manifest.digest, layers, metadata };
        print(out, format, () =>
          [
            `image     ${r.oci_uri}`,
            `digest    ${manifest.digest}`,
            '',
            table(
              ['layer', 'digest', 'size'],
              layers.map((l) => [l.mediaType, l.digest, l.size]),
            ),
            '',
            JSON.stringify(metadata, null, 2),
          ].join('\n'),
        );
      }),
    );
}
