/** Release routes (DESIGN.md §10): register, read by any reference, list, manifests, diff, projects. */
import type { FastifyRequest } from 'fastify';
import {
  CreateReleaseBody,
  DiffParams,
  DiffQuery,
  errorResponses,
  ListOf,
  Paging,
  ProjectParams,
  ProjectSummary,
  Release,
  ReleaseParams,
  Resources,
  SemanticDiff,
} from '../../contract/index.js';
import { ForgeError } from '../../core/errors.js';
import type { PreparedResources } from '../../services/create-release.js';
import { registerRelease } from '../../services/register-release.js';
import { semanticReleaseDiffJson, unifiedReleaseDiff } from '../../services/release-diff.js';
import { prepareRegistration } from '../../services/release-packing.js';
import { getReleaseManifests, listProjects, listReleases, readRelease } from '../../services/release-reads.js';
import { authorize } from '../auth.js';
import type { App, AppContext } from '../context.js';

const tags = ['releases'];

/** Whether an If-None-Match header names `etag` (RFC 9110 §13.1.2: `*`, or a list compared weakly). */
function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const given = (Array.isArray(header) ? header.join(',') : header).split(',').map((t) => t.trim().replace(/^W\//, ''));
  return given.includes('*') || given.includes(etag);
}

/**
 * Whether an Accept header asks for JSON rather than YAML (RFC 9110 §12.5.1): `application/json`
 * listed with a q-value above 0 and not below `application/yaml`'s. No header, or neither
 * listed: YAML, the route's default.
 */
export function prefersJson(accept: string | undefined): boolean {
  const q = new Map<string, number>();
  for (const part of (accept ?? '').split(',')) {
    const [type = '', ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    const weight = params.find((p) => p.startsWith('q='));
    const value = weight === undefined ? 1 : Number(weight.slice(2));
    q.set(type, Number.isFinite(value) ? value : 0);
  }
  const json = q.get('application/json') ?? 0;
  return json > 0 && json >= (q.get('application/yaml') ?? 0);
}

export async function releaseRoutes(app: App, ctx: AppContext, hide: boolean) {
  // Registration bodies (up to FORGE_BODY_LIMIT_BYTES, 16 MiB) are read in a packing thread,
  // not on the event loop (issue #19 item 2): the parser hands the raw bytes over and keeps the
  // body with its resources emptied, which the schema then checks; the packed layer waits here.
  const prepared = new WeakMap<object, PreparedResources>();
  await app.register(async (plain) => {
    const scope = plain as App;
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (req: FastifyRequest, bytes: Buffer) => {
      const read = await prepareRegistration(bytes, ctx.settings.maxResources);
      if (read.count !== null)
        prepared.set(req, {
          count: read.count,
          ...(read.layer ? { layer: read.layer } : {}),
          ...(read.refusal ? { refusal: read.refusal } : {}),
        });
      return read.body;
    });
    scope.post(
      '/releases',
      {
        bodyLimit: ctx.settings.bodyLimit,
        schema: {
          hide,
          tags,
          summary: 'Register a release (pipeline service account only)',
          body: CreateReleaseBody,
          response: { 200: Release, 201: Release, ...errorResponses },
        },
        // who may not register is refused before a byte of the body is read
        preParsing: async (req) => {
          authorize(req, { kind: 'release:create' });
        },
      },
      async (req, reply) => {
        const actor = authorize(req, { kind: 'release:create' });
        const resources = prepared.get(req);
        if (!resources) throw new ForgeError('internal_error', 'the registration body was not read by the packing thread');
        const { created, release } = await registerRelease(
          {
            db: ctx.db,
            store: ctx.store,
            maxResources: ctx.settings.maxResources,
            repositories: ctx.settings.platform.repositories,
            signingKey: ctx.signingKey,
            deploy: ctx.deploy,
            pauseAfterPushMs: ctx.settings.faults.pauseAfterRegistryPushMs,
          },
          actor,
          req.body,
          resources,
        );
        return reply.status(created ? 201 : 200).send(release);
      },
    );
  });

  app.get(
    '/releases/:owner/:name/:project',
    {
      schema: {
        hide,
        tags,
        summary: 'List the releases of a project, newest first (keyset paging: `next` is the cursor of the page after)',
        params: ProjectParams,
        querystring: Paging,
        response: { 200: ListOf(Release), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return listReleases(ctx, req.params, req.query);
    },
  );

  // GET one release (spec release-deployment.md "Releases"; issue #18): answered from the
  // resolution cache when it can (services/release-cache.ts), with a strong ETag that changes
  // when any part of the representation does; If-None-Match with it answers 304 and no body.
  app.get(
    '/releases/:owner/:name/:project/:ref',
    {
      schema: {
        hide,
        tags,
        summary:
          'Get a release by tag or branch alias, number, or sha (prefix of 7 or more); answers an ETag, and 304 with no body when If-None-Match names it',
        params: ReleaseParams,
        response: { 200: Release, 304: { description: 'not modified (If-None-Match matched the ETag)', type: 'null' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      authorize(req, { kind: 'read' });
      const { body, etag } = await readRelease(ctx, req.params, req.params.ref);
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (etagMatches(req.headers['if-none-match'], etag)) return reply.status(304).send(undefined as never);
      return reply
        .type('application/json; charset=utf-8')
        .serializer((text: string) => text)
        .send(body as never); // the representation, already serialised
    },
  );

  app.get(
    '/releases/:owner/:name/:project/:ref/resources',
    {
      schema: {
        hide,
        tags,
        summary:
          'The rendered manifests of a release: a YAML stream, or a JSON array with Accept: application/json; answers an ETag, and 304 with no body when If-None-Match names it',
        params: ReleaseParams,
        produces: ['application/yaml', 'application/json'],
        response: {
          200: {
            description: 'YAML stream or JSON array',
            content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: Resources } },
          },
          304: { description: 'not modified (If-None-Match matched the ETag)', type: 'null' },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      authorize(req, { kind: 'read' });
      const json = prefersJson(req.headers.accept);
      const manifests = await getReleaseManifests(ctx, req.params, req.params.ref, json ? 'json' : 'yaml');
      reply.header('etag', manifests.etag).header('cache-control', 'no-cache').header('vary', 'Accept');
      if (etagMatches(req.headers['if-none-match'], manifests.etag)) return reply.status(304).send(undefined as never);
      const docs = await manifests.read();
      if (json) {
        return reply
          .type('application/json')
          .serializer(JSON.stringify)
          .send(docs.map((d) => d.object));
      }
      return reply
        .type('application/yaml')
        .serializer((s: string) => s)
        .send(docs.map((d) => `---\n${d.yaml}`).join(''));
    },
  );

  app.get(
    '/releases/:owner/:name/:project/:ref/diff/:other',
    {
      schema: {
        hide,
        tags,
        summary:
          'Diff of two releases: ?format=semantic answers JSON (objects matched by group, kind, namespace and name; field paths with old and new values; Secret values hidden), ?format=unified (the default) a unified text diff per object',
        params: DiffParams,
        querystring: DiffQuery,
        produces: ['application/json', 'text/plain'],
        response: {
          200: {
            description: 'the semantic diff (JSON) or the unified diff (text)',
            content: { 'application/json': { schema: SemanticDiff }, 'text/plain': { schema: { type: 'string' } } },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      authorize(req, { kind: 'read' });
      // Computed in a worker thread with time and memory limits (services/release-diff.ts).
      if (req.query.format === 'semantic') {
        const diff = await semanticReleaseDiffJson(ctx, req.params, req.params.ref, req.params.other);
        return reply
          .type('application/json')
          .serializer((text) => text as string)
          .send(diff);
      }
      const patch = await unifiedReleaseDiff(ctx, req.params, req.params.ref, req.params.other);
      return reply
        .type('text/plain')
        .serializer((s: string) => s)
        .send(patch);
    },
  );

  app.get(
    '/projects',
    {
      schema: {
        hide,
        tags,
        summary:
          'Repositories and projects with their latest release, by repository and project (keyset paging: `next` is the cursor of the page after)',
        querystring: Paging,
        response: { 200: ListOf(ProjectSummary), ...errorResponses },
      },
    },
    async (req) => {
      authorize(req, { kind: 'read' });
      return listProjects(ctx, req.query);
    },
  );
}
